"""`python -m service`: the sharing service on TN_SERVICE_HOST:TN_SERVICE_PORT (127.0.0.1:8080)."""

import logging

import uvicorn

from service.app import create_app
from service.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if not settings.keys.exists():
        logging.getLogger("service").warning(
            "no key file at %s yet: only open data is served (issue keys with `python -m service.cli issue`)",
            settings.keys,
        )
    # No access log: request lines carry query strings, and the ledger records every request instead.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()

"""The data team's commands for the sharing service.

python -m service.cli issue CONSUMER             a new API key for a consumer of service/consumers.yaml (shown once)
python -m service.cli revoke KEY_ID              revoke a key (the running service refuses it from the next request)
python -m service.cli keys                       key ids, consumers, issued and revoked times (no secrets)
python -m service.cli ledger --from 2026-11-01 --to 2026-11-30 > ledger.csv
python -m service.cli ledger --pseudonym KEY     only the requests that returned this person's rows
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime

from service import keys, ledger
from service.grants import load_consumers
from service.settings import Settings


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} không phải ngày YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("issue", help="issue a key").add_argument("consumer")
    commands.add_parser("revoke", help="revoke a key").add_argument("key_id")
    commands.add_parser("keys", help="list keys")
    export = commands.add_parser("ledger", help="export the access ledger as CSV")
    export.add_argument("--from", dest="start", type=_day, required=True, help="first day (UTC), YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_day, help="last day (UTC), included; default today")
    export.add_argument("--pseudonym", help="only requests that returned rows of this pseudonym")
    export.add_argument("--consumer", help="only this consumer's requests")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "issue":
        consumers = load_consumers(settings.consumers) if settings.consumers.exists() else {}
        if args.consumer not in consumers:
            print(f"Không có tài khoản {args.consumer!r} trong {settings.consumers}", file=sys.stderr)
            return 2
        key_id, key = keys.issue(settings.keys, args.consumer)
        print(f"Khóa mới của {args.consumer} (mã khóa {key_id}), chỉ hiện một lần; chuyển cho đơn vị qua kênh an toàn:")
        print(key)
    elif args.command == "revoke":
        try:
            stored = keys.revoke(settings.keys, args.key_id)
        except KeyError:
            print(f"Không có khóa mã {args.key_id!r}", file=sys.stderr)
            return 2
        print(f"Đã thu hồi khóa {stored.key_id} của {stored.consumer} lúc {stored.revoked_at}")
    elif args.command == "keys":
        for k in keys.listed(settings.keys):
            revoked = f"thu hồi {k.revoked_at}" if k.revoked_at else ""
            print(f"{k.key_id}  {k.consumer:<20} cấp {k.issued_at}  {revoked}")
    else:
        end = args.end or datetime.now(UTC).date()
        rows = (
            e
            for e in ledger.entries(settings.ledger, args.start, end)
            if (args.pseudonym is None or args.pseudonym in (e.get("pseudonyms") or ()))
            and (args.consumer is None or e.get("consumer") == args.consumer)
        )
        count = ledger.write_csv(rows, sys.stdout)
        print(f"{count} lượt truy cập từ {args.start} đến {end}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

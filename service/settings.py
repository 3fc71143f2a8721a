"""The service's settings, all from the environment (secrets and paths never in the repository)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.lake import Lake

DEFAULT_CONSUMERS = Path(__file__).with_name("consumers.yaml")


def _number(environ, name: str, default: float, cast=float):
    raw = environ.get(name, "")
    try:
        return cast(raw) if raw.strip() else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number") from None


@dataclass(frozen=True)
class Settings:
    lake: Lake
    consumers: Path  # consumers and their grants (YAML, in the repository: no secrets)
    keys: Path  # API-key hashes (JSON, next to the lake, written by `python -m service.cli`)
    ledger: Path  # folder of the append-only access ledger, one JSON-lines file per day
    host: str = "127.0.0.1"
    port: int = 8080
    rate_per_second: float = 20.0  # token bucket per consumer (per client address without a key)
    burst: int = 40
    timeout_seconds: float = 10.0  # a query still running after this is interrupted (504)
    max_rows: int = 1000  # hard maximum of `limit`

    @property
    def shared_file(self) -> Path:
        return self.lake.shared_marts

    @property
    def open_data(self) -> Path:
        return self.lake.open_data

    @classmethod
    def from_env(cls) -> Settings:
        environ = os.environ
        lake = Lake.from_env()
        service_dir = lake.root / "service"
        return cls(
            lake=lake,
            consumers=Path(environ.get("TN_SERVICE_CONSUMERS") or DEFAULT_CONSUMERS),
            keys=Path(environ.get("TN_SERVICE_KEYS") or service_dir / "keys.json"),
            ledger=Path(environ.get("TN_SERVICE_LEDGER_DIR") or service_dir / "ledger"),
            host=environ.get("TN_SERVICE_HOST") or "127.0.0.1",
            port=_number(environ, "TN_SERVICE_PORT", 8080, int),
            rate_per_second=_number(environ, "TN_SERVICE_RATE", 20.0),
            burst=_number(environ, "TN_SERVICE_BURST", 40, int),
            timeout_seconds=_number(environ, "TN_SERVICE_TIMEOUT_S", 10.0),
            max_rows=_number(environ, "TN_SERVICE_MAX_ROWS", 1000, int),
        )

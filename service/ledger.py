"""The access ledger: one JSON line per request in lake/service/ledger/YYYY-MM-DD.jsonl (UTC day).

The service only ever opens these files with O_APPEND (and no code path truncates or rewrites them); deployment
makes that binding with the append-only attribute (`chattr +a`, docs/deployment.md). Rows returned from tables with
pseudonymised people list those pseudonyms, so "who has read my data" is a search by pseudonym.
"""

from __future__ import annotations

import csv
import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

FIELDS = (
    "time",
    "consumer",
    "agency",
    "key_id",
    "client",
    "method",
    "path",
    "dataset",
    "filters",
    "sort",
    "limit",
    "offset",
    "format",
    "rows",
    "status",
    "duration_ms",
    "error",
    "pseudonyms",
)
# A request's own parameters may carry what it must not: a run of 8 to 13 digits (a CCCD or old CMND, a phone number
# with or without +84) sent as a filter value or in the path is kept as its shape only.
PERSONAL_NUMBER = re.compile(r"(?<![0-9])\+?[0-9]{8,13}(?![0-9])")


def redacted(value: str) -> str:
    return PERSONAL_NUMBER.sub(lambda m: f"<{len(m.group(0))} digits>", value)


class Ledger:
    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.Lock()

    def append(self, entry: dict) -> None:
        """One line, written with a single write() on an O_APPEND descriptor (lines never interleave)."""
        now = datetime.now(UTC)
        line = json.dumps({"time": now.isoformat(timespec="milliseconds"), **entry}, ensure_ascii=False) + "\n"
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.folder / f"{now:%Y-%m-%d}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)


def entries(folder: Path, start: date, end: date) -> Iterator[dict]:
    """Every entry from `start` to `end` (UTC days, both included), in order."""
    day = start
    while day <= end:
        path = folder / f"{day:%Y-%m-%d}.jsonl"
        if path.exists():
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        day += timedelta(days=1)


def write_csv(rows: Iterator[dict], out) -> int:
    """The entries as CSV (filters as JSON, pseudonyms space-separated); returns the number written."""
    writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(
            {
                **row,
                "filters": json.dumps(row.get("filters") or {}, ensure_ascii=False),
                "pseudonyms": " ".join(row.get("pseudonyms") or ()),
            }
        )
        count += 1
    return count

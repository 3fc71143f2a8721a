"""The request store (restricted tier): one row per data-subject request in the Delta table lake/privacy/requests.

    python -m privacy.requests file --type access|erase|restrict --cccd 019012345678 [--deadline-hours 72]
    python -m privacy.requests list

The CCCD is kept while a request is open (the jobs need it) and nulled once an erasure completes; `subject_hash`
(HMAC with TN_PSEUDONYM_KEY) stays, so the request remains traceable without the identifier.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

from ingestion.duckdb_delta import sql_string
from ingestion.lake import Lake
from privacy.subject import subject_hash
from sharing.pseudonym import key_from_env

REQUEST_TYPES = ("access", "erase", "restrict")
DEFAULT_DEADLINE_HOURS = 72
SCHEMA = {
    "request_id": pl.String,
    "type": pl.String,
    "cccd": pl.String,
    "subject_hash": pl.String,
    "received_at": pl.Datetime("us", "UTC"),
    "deadline": pl.Datetime("us", "UTC"),
    "status": pl.String,  # filed | completed | failed
    "completed_at": pl.Datetime("us", "UTC"),
    "note": pl.String,
}
CCCD = re.compile(r"^\d{12}$")


class RequestError(ValueError):
    pass


def privacy_root(lake: Lake) -> Path:
    """Restricted tier: requests, exports, receipts, the suppression and restriction lists."""
    return lake.root / "privacy"


def requests_path(lake: Lake) -> Path:
    return privacy_root(lake) / "requests"


@dataclass(frozen=True)
class Request:
    request_id: str
    type: str
    cccd: str | None
    subject_hash: str
    received_at: datetime
    deadline: datetime
    status: str
    completed_at: datetime | None = None
    note: str | None = None


def file_request(
    lake: Lake, type: str, cccd: str, key: bytes, *, deadline_hours: int = DEFAULT_DEADLINE_HOURS, now=None
) -> Request:
    if type not in REQUEST_TYPES:
        raise RequestError(f"Loại yêu cầu không hợp lệ: {type!r} (một trong {', '.join(REQUEST_TYPES)})")
    if not CCCD.match(cccd):
        raise RequestError("Số CCCD phải gồm đúng 12 chữ số.")
    received = now or datetime.now(UTC)
    request = Request(
        request_id=f"dsr-{received:%Y%m%d}-{uuid.uuid4().hex[:8]}",
        type=type,
        cccd=cccd,
        subject_hash=subject_hash(cccd, key),
        received_at=received,
        deadline=received + timedelta(hours=deadline_hours),
        status="filed",
    )
    frame = pl.DataFrame([request.__dict__], schema=SCHEMA)
    write_deltalake(str(requests_path(lake)), frame.to_arrow(), mode="append")
    return request


def read_requests(lake: Lake) -> pl.DataFrame:
    path = requests_path(lake)
    if not DeltaTable.is_deltatable(str(path)):
        return pl.DataFrame(schema=SCHEMA)
    return pl.read_delta(str(path)).sort("received_at")


def get_request(lake: Lake, request_id: str) -> Request:
    rows = read_requests(lake).filter(pl.col("request_id") == request_id)
    if rows.is_empty():
        raise RequestError(f"Không tìm thấy yêu cầu {request_id}.")
    return Request(**rows.row(0, named=True))


def complete_request(lake: Lake, request_id: str, note: str, *, forget_cccd: bool = False) -> None:
    """Mark the request done; an erasure also drops the raw CCCD from the store (and its older files)."""
    table = DeltaTable(str(requests_path(lake)))
    updates = {"status": "'completed'", "completed_at": "now()", "note": sql_string(note)}
    if forget_cccd:
        updates["cccd"] = "null"
    table.update(updates=updates, predicate=f"request_id = {sql_string(request_id)}")
    if forget_cccd:
        table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
        table.cleanup_metadata()


def overdue(requests: pl.DataFrame, now: datetime | None = None) -> pl.DataFrame:
    """Requests past their deadline and not completed."""
    return requests.filter((pl.col("status") != "completed") & (pl.col("deadline") < (now or datetime.now(UTC))))


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy.requests", description="Yêu cầu của chủ thể dữ liệu")
    commands = parser.add_subparsers(dest="command", required=True)
    filing = commands.add_parser("file", help="ghi nhận một yêu cầu, in ra mã yêu cầu")
    filing.add_argument("--type", required=True, choices=REQUEST_TYPES)
    filing.add_argument("--cccd", required=True)
    filing.add_argument("--deadline-hours", type=int, default=DEFAULT_DEADLINE_HOURS)
    commands.add_parser("list", help="liệt kê các yêu cầu (không in số CCCD)")
    args = parser.parse_args(argv)
    lake = Lake.from_env()
    if args.command == "file":
        try:
            request = file_request(lake, args.type, args.cccd, key_from_env(), deadline_hours=args.deadline_hours)
        except RequestError as error:
            print(error, file=sys.stderr)
            return 2
        print(request.request_id)
        return 0
    shown = read_requests(lake).drop("cccd")  # listings never print the identifier
    with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=40):
        print(shown)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

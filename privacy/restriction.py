"""Restriction of processing: the person stays in the restricted tier (bronze, silver, warehouse) but out of every
shared or published output. The restriction list (lake/privacy/restriction, Delta: keyed hashes) is read when the
shared file is built, which leaves out the rows of every shared table whose pseudonymised CCCD is a restricted
person's (records.citizens, records.dossiers, dim_enterprise's legal representatives). Marts and open data are
aggregates: they go on counting the person, who cannot be told apart in them (small cells are suppressed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
from deltalake import DeltaTable, write_deltalake

from ingestion.duckdb_delta import quoted, sql_string
from ingestion.lake import Lake
from privacy.person_scan import scan_exports, scan_shared_file
from privacy.requests import RequestError, complete_request, get_request, privacy_root
from privacy.subject import SUBJECT_DOMAIN, find_subject
from sharing.pseudonym import pseudonym, pseudonym_sql

SCHEMA = {"subject_hash": pl.String, "request_id": pl.String, "added_at": pl.Datetime("us", "UTC")}


def restriction_path(lake_root: Path) -> Path:
    return lake_root / "privacy" / "restriction"


def restricted_hashes(lake_root: Path) -> list[str]:
    path = restriction_path(lake_root)
    if not DeltaTable.is_deltatable(str(path)):
        return []
    return pl.read_delta(str(path))["subject_hash"].unique().sort().to_list()


def without_restricted(relation: str, described: list[dict], hashes: list[str]) -> str:
    """`relation`, or a subquery of it leaving out restricted persons' rows, matched on the shared table's
    cccd-pseudonymised source columns (needs the key bound on the connection)."""
    columns = [d["from"] for d in described if d["treatment"] == "pseudonymise" and d.get("domain") == "cccd"]
    if not hashes or not columns:
        return relation
    listed = ", ".join(sql_string(h) for h in hashes)
    kept = [f"coalesce({pseudonym_sql(quoted(c), SUBJECT_DOMAIN)} not in ({listed}), true)" for c in columns]
    return f"(select * from {relation} where {' and '.join(kept)}) as unrestricted"


def restrict(lake: Lake, request_id: str, key: bytes) -> dict:
    """Add the person to the restriction list, rebuild the shared file without them, check it and the exports."""
    from sharing.config import load_config  # sharing.shared_file reads this module's list: import at call time
    from sharing.shared_file import build_shared_file

    request = get_request(lake, request_id)
    if request.type != "restrict" or request.status == "completed" or not request.cccd:
        raise RequestError(f"Yêu cầu {request_id} không phải yêu cầu hạn chế đang chờ xử lý.")
    listed = {"subject_hash": request.subject_hash, "request_id": request_id, "added_at": datetime.now(UTC)}
    row = pl.DataFrame([listed])
    write_deltalake(str(restriction_path(lake.root)), row.cast(SCHEMA).to_arrow(), mode="append")
    subject = find_subject(lake, request.cccd)
    shared = None
    if lake.warehouse.exists() and lake.shared_marts.exists():
        outcome = build_shared_file(lake, load_config(), key)
        shared = {t.name: t.rows for t in outcome.tables}
    receipt = {
        "request_id": request_id,
        "type": "restrict",
        "subject_hash": request.subject_hash,
        "completed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "shared_file": {"rebuilt": shared is not None, "rows": shared},
        "pseudonym_rows_in_shared_file": pseudonym_rows(lake, pseudonym(request.cccd, "cccd", key)),
        "scan_after": {
            "shared_file": scan_shared_file(lake, subject.needles),
            "exports": scan_exports(lake, subject.needles),
        },
        "kept_in": "bronze, silver, quarantine, warehouse.duckdb (tầng hạn chế)",
        "aggregates_note": "Các bảng tổng hợp (marts, open data) vẫn đếm người này; không thể nhận diện trong đó.",
    }
    folder = privacy_root(lake) / "receipts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{request_id}.json").write_text(json.dumps(receipt, ensure_ascii=False, indent=2), encoding="utf-8")
    complete_request(lake, request_id, f"receipt {request_id}.json")
    return receipt


def shared_text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every text column of the shared file open on `con`, its catalog tables aside."""
    return con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() where data_type = 'VARCHAR' "
        "and database_name = current_database() and schema_name <> 'sharing'"
    ).fetchall()


def pseudonym_rows(lake: Lake, key_value: str) -> dict[str, int]:
    """Rows of the shared file holding the person's pseudonym, per table and column (empty when none)."""
    if not lake.shared_marts.exists():
        return {}
    found = {}
    with duckdb.connect(str(lake.shared_marts), read_only=True) as con:
        for schema, table, column in shared_text_columns(con):
            ref = f"{quoted(schema)}.{quoted(table)}"
            n = con.execute(f"select count(*) from {ref} where {quoted(column)} = ?", [key_value]).fetchall()[0][0]
            if n:
                found[f"{schema}.{table}.{column}"] = n
    return found

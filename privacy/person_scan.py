"""The PII scan (sharing/pii_scan.py) with one person's values as needles, over the shared file and the exports
(lake/published/ Parquet, lake/open_data/ CSV and Parquet): after an erasure nothing of them may be found."""

from __future__ import annotations

import re

import duckdb

from ingestion.duckdb_delta import quoted, sql_string
from ingestion.lake import Lake
from sharing.pii_scan import Needles, ScanReport, scan


def _needle_hits(report: ScanReport) -> dict[str, int]:
    """Only the person's own values count here (`known_id`, `name`): the patterns flag any CCCD-shaped value."""
    hits: dict[str, int] = {}
    for column in report.columns:
        for rule in ("known_id", "name"):
            if column.hits.get(rule):
                where = f"{column.table}.{column.column}"
                hits[where] = hits.get(where, 0) + column.hits[rule]
    return hits


def scan_shared_file(lake: Lake, needles: Needles) -> dict:
    if not lake.shared_marts.exists():
        return {"file": lake.shared_marts.name, "scanned": False}
    with duckdb.connect() as con:
        con.execute(f"attach {sql_string(str(lake.shared_marts))} as shared (read_only)")
        report = scan(con, needles, database="shared")
    return {"file": lake.shared_marts.name, "scanned": True, **_summary(report)}


def scan_exports(lake: Lake, needles: Needles) -> dict:
    """Every published and open-data file loaded into a scratch database (they are aggregates: small) and scanned."""
    files = sorted(
        [*lake.published.rglob("*.parquet"), *lake.open_data.rglob("*.parquet"), *lake.open_data.rglob("*.csv")]
        if lake.published.exists() or lake.open_data.exists()
        else []
    )
    with duckdb.connect() as con:
        con.execute("create schema exports")
        for i, path in enumerate(files):
            reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
            name = f"f{i}_" + re.sub(r"[^a-z0-9]+", "_", path.relative_to(lake.root).as_posix().lower())
            con.execute(f"create table exports.{quoted(name)} as select * from {reader}({sql_string(str(path))})")
        report = scan(con, needles)
    return {"files": len(files), **_summary(report)}


def _summary(report: ScanReport) -> dict:
    return {
        "tables": len(report.tables),
        "columns": len(report.columns),
        "values": report.values_scanned,
        "person_hits": _needle_hits(report),
    }

"""The suppression list: keyed hashes of erased persons' CCCDs (lake/privacy/suppression, Delta), applied when silver
is built so a department resending an old extract does not bring an erased person back.

Before silver reads bronze, the new (not yet applied) bronze rows of a suppressed person are deleted from bronze,
the ingestion log's counts lowered to match, and the count recorded per file in lake/privacy/suppressed_rows
(source, file, rows: no identifier). The raw values are never copied to quarantine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
from deltalake import DeltaTable, write_deltalake

from ingestion.catalog import Source
from ingestion.duckdb_delta import quoted
from ingestion.ingestion_log import read_log
from privacy.subject import SUBJECT_DOMAIN
from sharing.pseudonym import bind_key, key_from_env, pseudonym_sql

SUPPRESSION_SCHEMA = {"subject_hash": pl.String, "request_id": pl.String, "added_at": pl.Datetime("us", "UTC")}


def suppression_path(lake_root: Path) -> Path:
    return lake_root / "privacy" / "suppression"


def suppressed_rows_path(lake_root: Path) -> Path:
    return lake_root / "privacy" / "suppressed_rows"


def add_to_suppression(lake_root: Path, subject_hash: str, request_id: str) -> None:
    row = pl.DataFrame([{"subject_hash": subject_hash, "request_id": request_id, "added_at": datetime.now(UTC)}])
    write_deltalake(str(suppression_path(lake_root)), row.cast(SUPPRESSION_SCHEMA).to_arrow(), mode="append")


def suppressed_hashes(lake_root: Path) -> list[str]:
    path = suppression_path(lake_root)
    if not DeltaTable.is_deltatable(str(path)):
        return []
    return pl.read_delta(str(path))["subject_hash"].unique().sort().to_list()


def cccd_columns(source: Source) -> list[str]:
    return [c.name for c in source.columns if c.pii and "cccd" in c.name]


def purge_suppressed(source: Source, bronze_path, log_path: Path | None) -> int:
    """Delete the new bronze rows of suppressed persons (before silver applies them); returns how many."""
    columns = cccd_columns(source)
    if log_path is None or not columns or not DeltaTable.is_deltatable(str(bronze_path)):
        return 0
    lake_root = log_path.parent
    hashes = suppressed_hashes(lake_root)
    if not hashes:
        return 0
    from privacy.lake_rows import PersonRows, adjust_log  # the log helper; imported here to keep silver's import light

    applied = set(read_log(log_path, source.name, "silver")["file_hash"])
    bronze = pl.scan_delta(str(bronze_path))
    present = set(bronze.collect_schema().names())
    columns = [c for c in columns if c in present]
    new_rows = bronze.filter(~pl.col("_file_hash").is_in(sorted(applied))).select(
        *columns, "_file_hash", "_source_file", "_row_number"
    )
    with duckdb.connect() as con:
        bind_key(con, key_from_env())
        con.register("new_rows", new_rows.collect().to_arrow())
        con.register("suppressed", pl.DataFrame({"h": hashes}).to_arrow())
        matched = " or ".join(
            f"{pseudonym_sql(f'trim({quoted(c)})', SUBJECT_DOMAIN)} in (select h from suppressed)" for c in columns
        )
        rows = con.sql(f"select _file_hash, _source_file, _row_number from new_rows where {matched}").pl()
    if rows.is_empty():
        return 0
    table = DeltaTable(str(bronze_path))
    for (digest,), part in rows.group_by(["_file_hash"]):
        numbers = ", ".join(str(n) for n in part["_row_number"])
        table.delete(f"_file_hash = '{digest}' AND _row_number IN ({numbers})")
    table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    table.cleanup_metadata()
    adjust_log(log_path, [PersonRows("bronze", f"bronze/{source.name}", source.name, rows)])
    counts = rows.group_by("_source_file").len().rename({"_source_file": "file", "len": "rows"})
    write_deltalake(
        str(suppressed_rows_path(lake_root)),
        counts.with_columns(source=pl.lit(source.name), at=pl.lit(datetime.now(UTC)))
        .select("source", "file", pl.col("rows").cast(pl.Int64), "at")
        .to_arrow(),
        mode="append",
    )
    return rows.height

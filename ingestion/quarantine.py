"""The quarantine Delta table: rows (or whole files) that broke their contract, with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

QUARANTINE_SCHEMA = {
    "source": pl.String,
    "stage": pl.String,  # read (whole file unreadable) | line (one line unreadable) | contract (a row broke a rule)
    "source_file": pl.String,
    "file_hash": pl.String,
    "row_number": pl.Int64,
    "reason": pl.String,
    "record": pl.String,
    "ingested_at": pl.Datetime("us", "UTC"),
}


def _sql_list(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def replace_quarantine(
    table_path: Path, source: str, stage: str, rows: pl.DataFrame, file_hashes: list[str] | None = None
) -> None:
    """Replace this source's quarantined rows of `stage` (only those of `file_hashes` when given) with `rows`.

    Replacing instead of appending makes a re-run after a crash write each quarantined row once.
    """
    rows = rows.select([pl.col(n).cast(t) for n, t in QUARANTINE_SCHEMA.items()])
    if not DeltaTable.is_deltatable(str(table_path)):
        write_deltalake(str(table_path), rows.to_arrow(), mode="append", partition_by=["source"])
        return
    _add_stage_column(table_path)
    predicate = f"source = '{source}' AND stage = '{stage}'"
    if file_hashes is not None:
        if not file_hashes:
            return
        predicate += f" AND file_hash IN ({_sql_list(file_hashes)})"
    write_deltalake(str(table_path), rows.to_arrow(), mode="overwrite", predicate=predicate)


def _add_stage_column(table_path: Path) -> None:
    """Quarantine tables written before whole-file quarantine had no `stage`: all their rows were contract rows."""
    existing = pl.scan_delta(str(table_path))
    if "stage" in existing.collect_schema().names():
        return
    upgraded = existing.collect().with_columns(stage=pl.lit("contract"))
    write_deltalake(
        str(table_path),
        upgraded.select(list(QUARANTINE_SCHEMA)).to_arrow(),
        mode="overwrite",
        schema_mode="overwrite",
        partition_by=["source"],
    )


def quarantined_counts(table_path: Path, source: str) -> pl.DataFrame:
    """Rows per (stage, file_hash) of one source."""
    if not DeltaTable.is_deltatable(str(table_path)):
        return pl.DataFrame(schema={"stage": pl.String, "file_hash": pl.String, "rows": pl.UInt32})
    return (
        pl.scan_delta(str(table_path))
        .filter(pl.col("source") == source)
        .group_by("stage", "file_hash")
        .agg(rows=pl.len())
        .collect()
    )

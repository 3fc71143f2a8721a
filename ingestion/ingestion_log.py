"""The ingestion log: a Delta table with one row per landed file and stage, so every file is accounted for.

bronze rows: landed_rows = bronze_rows + quarantined_rows (lines that cannot be records; a file that cannot be read
is quarantined whole). One row per file name and content: a copy of a known file under another name is `duplicate`.
silver rows: bronze_rows = silver_rows + quarantined_rows + superseded_rows for the file's rows.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

LOG_SCHEMA = {
    "source": pl.String,
    "stage": pl.String,  # bronze | silver
    "file": pl.String,
    "file_hash": pl.String,
    "file_date": pl.Date,
    "status": pl.String,  # bronze: loaded | no_rows | failed | duplicate; silver: rebuilt | merged | appended
    "landed_rows": pl.Int64,
    "bronze_rows": pl.Int64,
    "silver_rows": pl.Int64,
    "quarantined_rows": pl.Int64,
    "superseded_rows": pl.Int64,
    "encoding": pl.String,
    "new_columns": pl.String,  # undeclared columns found (schema drift), comma-separated
    "error": pl.String,
    "ingested_at": pl.Datetime("us", "UTC"),
}


def append_log(table_path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    frame = pl.DataFrame([{k: r.get(k) for k in LOG_SCHEMA} for r in rows], schema=LOG_SCHEMA)
    write_deltalake(str(table_path), frame.to_arrow(), mode="append", schema_mode="merge")


def read_log(table_path: Path, source: str | None = None, stage: str | None = None) -> pl.DataFrame:
    if not DeltaTable.is_deltatable(str(table_path)):
        return pl.DataFrame(schema=LOG_SCHEMA)
    frame = pl.scan_delta(str(table_path))
    if source is not None:
        frame = frame.filter(pl.col("source") == source)
    if stage is not None:
        frame = frame.filter(pl.col("stage") == stage)
    return frame.collect()

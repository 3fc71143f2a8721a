"""Bronze: every new landing file appended to a Delta table as raw strings, with where it came from.

A file is known by its SHA-256: one already in bronze is skipped, so re-runs never duplicate rows. All new
files of a run land in one Delta commit, so a crash leaves either all of them or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

from ingestion.catalog import Source
from ingestion.extracts import file_sha256, landing_files, read_extract

LINEAGE_COLUMNS = ["_source_file", "_file_hash", "_row_number", "_ingested_at"]


@dataclass
class BronzeLoad:
    files_new: list[dict] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)
    rows_written: int = 0
    table_version: int | None = None
    table_rows: int = 0


def ingested_hashes(table_path: Path) -> set[str]:
    if not DeltaTable.is_deltatable(str(table_path)):
        return set()
    return set(pl.scan_delta(str(table_path)).select("_file_hash").unique().collect()["_file_hash"])


def _with_lineage(frame: pl.DataFrame, path: Path, digest: str, now: datetime) -> pl.DataFrame:
    # Data rows start on line 2 of a CSV (line 1 is the header) and on row 2 of a sheet.
    return frame.with_columns(
        _source_file=pl.lit(path.name),
        _file_hash=pl.lit(digest),
        _row_number=pl.int_range(2, frame.height + 2, dtype=pl.Int64),
        _ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
    )


def load_bronze(source: Source, landing: Path, table_path: Path, log=print) -> BronzeLoad:
    result = BronzeLoad()
    known = ingested_hashes(table_path)
    now = datetime.now(timezone.utc)
    frames = []
    for path in landing_files(source, landing):
        digest = file_sha256(path)
        if digest in known:
            result.files_skipped.append(path.name)
            continue
        frame = _with_lineage(read_extract(source, path), path, digest, now)
        known.add(digest)  # the same content under two names lands once
        frames.append(frame)
        result.files_new.append({"file": path.name, "sha256": digest, "rows": frame.height})
        log(f"{source.name}: read {path.name} ({frame.height:,} rows)")
    if frames:
        batch = pl.concat(frames)
        write_deltalake(str(table_path), batch.to_arrow(), mode="append", schema_mode="merge")
        result.rows_written = batch.height
    if DeltaTable.is_deltatable(str(table_path)):
        result.table_version = DeltaTable(str(table_path)).version()
        result.table_rows = pl.scan_delta(str(table_path)).select(pl.len()).collect().item()
    return result

"""Bronze: every new landing file appended to a Delta table as raw strings, with where it came from.

A file is known by its SHA-256: one already in bronze (or already quarantined whole) is skipped, so re-runs
never duplicate rows. All readable new files of a run land in one Delta commit, so a crash leaves either all
of them or none. A file that cannot be read at all (truncated, wrong format, missing a required column) is
quarantined whole with the parser's message and does not stop the other files.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

from ingestion.catalog import Source
from ingestion.extracts import (
    Extract,
    ExtractError,
    file_date,
    file_sha256,
    first_row_number,
    landing_files,
    read_extract,
)
from ingestion.ingestion_log import append_log, read_log
from ingestion.quarantine import replace_quarantine

LINEAGE_COLUMNS = ["_source_file", "_file_hash", "_row_number", "_ingested_at"]
RECORD_PREVIEW = 2_000
# Files of a batch are hashed and read side by side: the readers (polars, calamine) and hashlib release the GIL, and
# one small file cannot keep two cores busy (1,158 NDJSON files 4.9 -> 3.3 s; 4 xlsx registries 7.0 -> 3.6 s).
READ_THREADS = min(4, os.cpu_count() or 1)


@dataclass
class BronzeLoad:
    files_new: list[dict] = field(default_factory=list)
    files_skipped: list[str] = field(default_factory=list)
    files_failed: list[dict] = field(default_factory=list)
    new_columns: dict[str, list[str]] = field(default_factory=dict)  # file → undeclared columns kept
    notes: list[str] = field(default_factory=list)
    rows_written: int = 0
    table_version: int | None = None
    table_rows: int = 0


def ingested_hashes(table_path: Path) -> set[str]:
    if not DeltaTable.is_deltatable(str(table_path)):
        return set()
    return set(pl.scan_delta(str(table_path)).select("_file_hash").unique().collect()["_file_hash"])


def _with_lineage(source: Source, frame: pl.DataFrame, path: Path, digest: str, now: datetime) -> pl.DataFrame:
    first = first_row_number(source)
    return frame.with_columns(
        _source_file=pl.lit(path.name),
        _file_hash=pl.lit(digest),
        _row_number=pl.int_range(first, frame.height + first, dtype=pl.Int64),
        _ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
    )


def _physical_rows(source: Source, path: Path) -> int:
    """Best count of the records an unreadable file held, for the reconciliation (lines, less the header)."""
    if source.format not in ("csv", "ndjson"):
        return 1
    data = path.read_bytes()
    if source.encoding == "utf-16" or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
    lines = sum(1 for line in data.splitlines() if line.strip())
    return max(lines - (1 if source.format == "csv" else 0), 1)


def _recover_log_entries(table_path: Path, log_path: Path, source: Source, hashes: set[str]) -> None:
    """Files in bronze without a log row (a run stopped between the two writes): log what bronze holds."""
    if not hashes:
        return
    found = (
        pl.scan_delta(str(table_path))
        .filter(pl.col("_file_hash").is_in(sorted(hashes)))
        .group_by("_file_hash")
        .agg(pl.col("_source_file").first(), pl.col("_ingested_at").first(), n=pl.len())
        .collect()
    )
    append_log(
        log_path,
        [
            {
                "source": source.name,
                "stage": "bronze",
                "file": r["_source_file"],
                "file_hash": r["_file_hash"],
                "file_date": file_date(Path(r["_source_file"])),
                "status": "loaded",
                "landed_rows": r["n"],
                "bronze_rows": r["n"],
                "quarantined_rows": 0,
                "error": "log entry recovered from bronze after an interrupted run",
                "ingested_at": r["_ingested_at"],
            }
            for r in found.iter_rows(named=True)
        ],
    )


def _preview(path: Path) -> str:
    return path.read_bytes()[:RECORD_PREVIEW].decode("utf-8", errors="replace")


def _read(source: Source, path: Path) -> Extract | ExtractError:
    """A file's extract, or why it cannot be read: returned, not raised, so the pool's other reads go on."""
    try:
        return read_extract(source, path)
    except ExtractError as error:
        return error


def load_bronze(
    source: Source,
    landing: Path,
    table_path: Path,
    log=print,
    *,
    quarantine_path: Path | None = None,
    log_path: Path | None = None,
    partition_date: date | None = None,
) -> BronzeLoad:
    """Append every new landing file of `source` (only those dated `partition_date`, when given)."""
    result = BronzeLoad()
    known = ingested_hashes(table_path)
    if log_path is not None:
        logged = read_log(log_path, source.name, "bronze")
        _recover_log_entries(table_path, log_path, source, known - set(logged["file_hash"]))
        known |= set(logged.filter(pl.col("status") == "failed")["file_hash"])
    now = datetime.now(UTC)
    frames, log_rows, failures = [], [], []
    dated = [p for p in landing_files(source, landing) if partition_date is None or file_date(p) == partition_date]
    with ThreadPoolExecutor(READ_THREADS) as pool:
        new = []
        for path, digest in zip(dated, pool.map(file_sha256, dated)):
            if digest in known:
                result.files_skipped.append(path.name)
                continue
            known.add(digest)  # the same content under two names lands once
            new.append((path, digest))
        # read side by side, handled in landing order
        for (path, digest), extract in zip(new, pool.map(lambda item: _read(source, item[0]), new)):
            entry = {
                "source": source.name,
                "stage": "bronze",
                "file": path.name,
                "file_hash": digest,
                "file_date": file_date(path),
                "ingested_at": now,
            }
            if isinstance(extract, ExtractError):
                landed = _physical_rows(source, path)
                log(f"{source.name}: QUARANTINED whole file {extract}")
                failures.append(
                    {
                        "source": source.name,
                        "stage": "read",
                        "source_file": path.name,
                        "file_hash": digest,
                        "row_number": None,
                        "reason": f"file could not be ingested: {extract}",
                        "record": _preview(path),
                        "ingested_at": now,
                    }
                )
                result.files_failed.append({"file": path.name, "sha256": digest, "rows": landed, "error": str(extract)})
                log_rows.append(
                    {
                        **entry,
                        "status": "failed",
                        "landed_rows": landed,
                        "bronze_rows": 0,
                        "quarantined_rows": landed,
                        "error": str(extract),
                    }
                )
                continue
            frame = _with_lineage(source, extract.frame, path, digest, now)
            frames.append(frame)
            result.notes += extract.notes
            if extract.extra_columns:
                result.new_columns[path.name] = sorted(extract.extra_columns)
            for note in extract.notes:
                log(f"{source.name}: {note}")
            result.files_new.append(
                {"file": path.name, "sha256": digest, "rows": frame.height, "encoding": extract.encoding}
            )
            log_rows.append(
                {
                    **entry,
                    "status": "loaded",
                    "landed_rows": frame.height,
                    "bronze_rows": frame.height,
                    "quarantined_rows": 0,
                    "encoding": extract.encoding,
                    "new_columns": ",".join(sorted(extract.extra_columns)) or None,
                }
            )
            log(f"{source.name}: read {path.name} ({frame.height:,} rows, {extract.encoding})")
    if frames:
        batch = pl.concat(frames, how="diagonal")
        write_deltalake(str(table_path), batch.to_arrow(), mode="append", schema_mode="merge")
        result.rows_written = batch.height
    if failures and quarantine_path is not None:
        replace_quarantine(
            quarantine_path, source.name, "read", pl.DataFrame(failures), file_hashes=[f["file_hash"] for f in failures]
        )
    if log_path is not None:
        append_log(log_path, log_rows)
    if DeltaTable.is_deltatable(str(table_path)):
        result.table_version = DeltaTable(str(table_path)).version()
        result.table_rows = pl.scan_delta(str(table_path)).select(pl.len()).collect().item()
    return result

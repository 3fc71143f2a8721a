"""Bronze: every new landing file appended to a Delta table as raw strings, with where it came from.

A file is known by its SHA-256: one already in bronze or in the ingestion log is skipped, so re-runs never
duplicate rows; a copy of a known file under a new name gets one `duplicate` log row naming the original. All
readable new files of a run land in one Delta commit, so a crash leaves either all of them or none. A line that
cannot be a record (an extra field, broken JSON) is quarantined with its line number and the file's other rows land;
a file that cannot be read at all (empty, binary, truncated, wrong format or encoding, missing a required column)
is quarantined whole with the reason and does not stop the other files.
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
    RECORD_PREVIEW,
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
# Files of a batch are hashed and read side by side: the readers (polars, calamine) and hashlib release the GIL, and
# one small file cannot keep two cores busy.
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


def ingested_files(table_path: Path) -> dict[str, str]:
    """File hash → the file name it landed under, for every file in bronze."""
    if not DeltaTable.is_deltatable(str(table_path)):
        return {}
    found = pl.scan_delta(str(table_path)).group_by("_file_hash").agg(pl.col("_source_file").first()).collect()
    return dict(zip(found["_file_hash"], found["_source_file"]))


def _with_lineage(source: Source, extract: Extract, path: Path, digest: str, now: datetime) -> pl.DataFrame:
    frame, first = extract.frame, first_row_number(source)
    lines = (
        pl.Series(extract.row_numbers, dtype=pl.Int64)
        if extract.row_numbers is not None
        else pl.int_range(first, frame.height + first, dtype=pl.Int64, eager=True)
    )
    return frame.with_columns(
        _source_file=pl.lit(path.name),
        _file_hash=pl.lit(digest),
        _row_number=lines,
        _ingested_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
    )


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


def _log_entry(source: Source, path: Path, digest: str, now: datetime) -> dict:
    return {
        "source": source.name,
        "stage": "bronze",
        "file": path.name,
        "file_hash": digest,
        "file_date": file_date(path),
        "ingested_at": now,
    }


def _no_rows(status: str) -> dict:
    return {"status": status, "landed_rows": 0, "bronze_rows": 0, "quarantined_rows": 0}


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
    known = ingested_files(table_path)  # hash → the name it first landed under
    logged_files: set[tuple[str, str]] = set()
    if log_path is not None:
        logged = read_log(log_path, source.name, "bronze")
        recovered = {h: f for h, f in known.items() if h not in set(logged["file_hash"])}
        _recover_log_entries(table_path, log_path, source, set(recovered))
        # every logged content is known, also those that put no row in bronze (failed, header only, all lines bad)
        first_names = logged.sort("ingested_at").unique("file_hash", keep="first", maintain_order=True)
        known = {**dict(zip(first_names["file_hash"], first_names["file"])), **known}
        logged_files = set(zip(logged["file"], logged["file_hash"])) | {(f, h) for h, f in recovered.items()}
    now = datetime.now(UTC)
    frames, log_rows, failures, bad_lines = [], [], [], []
    dated = [p for p in landing_files(source, landing) if partition_date is None or file_date(p) == partition_date]
    with ThreadPoolExecutor(READ_THREADS) as pool:
        new = []
        for path, digest in zip(dated, pool.map(file_sha256, dated)):
            entry = _log_entry(source, path, digest, now)
            if digest in known:
                result.files_skipped.append(path.name)
                if (path.name, digest) not in logged_files:  # a copy under another name: logged once, no rows
                    log_rows.append({**entry, **_no_rows("duplicate"), "error": f"same content as {known[digest]}"})
                    logged_files.add((path.name, digest))
                continue
            known[digest] = path.name  # the same content under two names lands once
            logged_files.add((path.name, digest))
            new.append((path, digest))
        # read side by side, handled in landing order
        for (path, digest), extract in zip(new, pool.map(lambda item: _read(source, item[0]), new)):
            entry = _log_entry(source, path, digest, now)
            if isinstance(extract, ExtractError):
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
                result.files_failed.append(
                    {"file": path.name, "sha256": digest, "rows": extract.rows, "error": str(extract)}
                )
                log_rows.append(
                    {
                        **entry,
                        "status": "failed",
                        "landed_rows": extract.rows,
                        "bronze_rows": 0,
                        "quarantined_rows": extract.rows,
                        "error": str(extract),
                    }
                )
                continue
            frame = _with_lineage(source, extract, path, digest, now)
            if frame.height:
                frames.append(frame)
            bad_lines += [
                {
                    "source": source.name,
                    "stage": "line",
                    "source_file": path.name,
                    "file_hash": digest,
                    "row_number": bad.row_number,
                    "reason": bad.reason,
                    "record": bad.record,
                    "ingested_at": now,
                }
                for bad in extract.bad_lines
            ]
            result.notes += extract.notes
            if extract.extra_columns:
                result.new_columns[path.name] = sorted(extract.extra_columns)
            for note in extract.notes:
                log(f"{source.name}: {note}")
            result.files_new.append(
                {
                    "file": path.name,
                    "sha256": digest,
                    "rows": frame.height,
                    "lines_quarantined": len(extract.bad_lines),
                    "encoding": extract.encoding,
                }
            )
            log_rows.append(
                {
                    **entry,
                    # no_rows: read, but nothing reached bronze (a header only, or every line unreadable)
                    "status": "loaded" if frame.height else "no_rows",
                    "landed_rows": frame.height + len(extract.bad_lines),
                    "bronze_rows": frame.height,
                    "quarantined_rows": len(extract.bad_lines),
                    "encoding": extract.encoding,
                    "new_columns": ",".join(sorted(extract.extra_columns)) or None,
                }
            )
            log(f"{source.name}: read {path.name} ({frame.height:,} rows, {extract.encoding})")
    if frames:
        batch = pl.concat(frames, how="diagonal")
        write_deltalake(str(table_path), batch.to_arrow(), mode="append", schema_mode="merge")
        result.rows_written = batch.height
    if quarantine_path is not None:
        for stage, rows in (("read", failures), ("line", bad_lines)):
            if rows:
                frame = pl.DataFrame(rows, schema_overrides={"row_number": pl.Int64})
                hashes = sorted(set(frame["file_hash"]))
                replace_quarantine(quarantine_path, source.name, stage, frame, file_hashes=hashes)
    if log_path is not None:
        append_log(log_path, log_rows)
    if DeltaTable.is_deltatable(str(table_path)):
        result.table_version = DeltaTable(str(table_path)).version()
        result.table_rows = pl.scan_delta(str(table_path)).select(pl.len()).collect().item()
    return result

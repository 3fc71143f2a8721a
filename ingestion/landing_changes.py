"""Which sources have something new to ingest: the one change detector's lake side (orchestration/change_detection.py
turns it into the assets to run).

A source has changed when a landing file is not in the ingestion log yet, or bronze holds files silver has not
applied (a run that stopped half-way). A landing file counts as ingested when the log holds its name and it was not
modified after it was logged; otherwise its content hash decides (a file only touched, or copied under a new name,
is not new: bronze skips it the same way). Only the files that fail the cheap name-and-time test are hashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from ingestion.catalog import Source, load_catalog
from ingestion.extracts import file_sha256, landing_files
from ingestion.ingestion_log import read_log
from ingestion.lake import Lake


@dataclass(frozen=True)
class SourceChange:
    source: str
    new_files: dict[str, str] = field(default_factory=dict)  # file relative to landing → content hash
    unapplied: frozenset[str] = frozenset()  # hashes of bronze files silver has not applied

    @property
    def reason(self) -> str:
        if self.new_files:
            names = sorted(name.rsplit("/", 1)[-1] for name in self.new_files)
            more = f" (+{len(names) - 5} more)" if len(names) > 5 else ""
            return f"{len(names)} new landing file(s): {', '.join(names[:5])}{more}"
        return f"{len(self.unapplied)} bronze file(s) silver has not applied (an earlier run stopped half-way)"


def changed_sources(lake: Lake, catalog: dict[str, Source] | None = None) -> dict[str, SourceChange]:
    """Source name → what is new for it; sources with nothing new are left out."""
    log = read_log(lake.ingestion_log).select("source", "stage", "file", "file_hash", "status", "ingested_at")
    changed = {}
    for name, source in (catalog or load_catalog()).items():
        change = _source_change(source, lake, log.filter(pl.col("source") == name))
        if change is not None:
            changed[name] = change
    return changed


def _source_change(source: Source, lake: Lake, log: pl.DataFrame) -> SourceChange | None:
    bronze = log.filter(pl.col("stage") == "bronze")
    logged_at = dict(bronze.group_by("file").agg(pl.col("ingested_at").max()).iter_rows())
    known = set(bronze["file_hash"])
    new_files = {}
    for path in landing_files(source, lake.landing):
        when = logged_at.get(path.name)
        if when is not None and datetime.fromtimestamp(path.stat().st_mtime, UTC) <= when:
            continue
        digest = file_sha256(path)
        if digest not in known:
            new_files[str(path.relative_to(lake.landing))] = digest
    loaded = set(bronze.filter(pl.col("status") == "loaded")["file_hash"])
    unapplied = frozenset(loaded - set(log.filter(pl.col("stage") == "silver")["file_hash"]))
    return SourceChange(source.name, new_files, unapplied) if new_files or unapplied else None

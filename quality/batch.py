"""Which rows a gate validates: the batch a run added, or the whole table.

A gate covers a table up to a version and an ingest-time watermark (`until`, the newest `_ingested_at` it saw), and
the results table records both (`quality/results.py`). The next gate of the same suite validates the rows ingested
after the watermark of the latest validation that passed (a failed batch, or a failed first validation of the whole
table, is validated again with the next one: a gate stays failed until its rows are fixed). The whole table is
validated when there is no such validation, or when the table was
rewritten since (an overwrite, a delete, an update, a restore: `ingestion.duckdb_delta.last_rewrite`; appends and
the pipeline's merges stamp new ingest times on every row they add or replace, compaction changes no row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl
import pyarrow.compute as pc
from deltalake import DeltaTable

from ingestion.duckdb_delta import last_rewrite, quoted, sql_string

BATCH, WHOLE_TABLE = "batch", "whole_table"
# Result rows of the rows an upsert batch replaced, validated as they were before it: the scorecard subtracts them.
REPLACED = "replaced"
INGESTED_AT = "_ingested_at"


@dataclass(frozen=True)
class Coverage:
    """What one validation covers: `scope`, the table's `version`, and the ingest times (`since`, `until`]."""

    scope: str
    version: int
    until: datetime | None
    since: datetime | None = None
    reason: str = ""
    since_version: int | None = None  # the version the previous validation covered (a batch's "before")

    def in_batch(self, alias: str = "") -> str:
        """SQL predicate on `alias`'s rows (or unqualified columns): in this batch."""
        column = f"{alias}.{quoted(INGESTED_AT)}" if alias else quoted(INGESTED_AT)
        upper = f"{column} <= {_timestamp(self.until)}" if self.until is not None else "true"
        return upper if self.since is None else f"{column} > {_timestamp(self.since)} and {upper}"

    def query(self, view: str) -> str | None:
        """The batch's rows as a query over `view` (the whole table), None for a whole-table validation."""
        return None if self.scope == WHOLE_TABLE else f"select * from {quoted(view)} where {self.in_batch()}"

    def outside_batch(self, alias: str) -> str:
        """SQL predicate on `alias`'s rows: not in this batch (the rest of the table)."""
        return f"not coalesce({self.in_batch(alias)}, false)"

    def is_empty(self) -> bool:
        return self.scope == BATCH and self.since is not None and (self.until is None or self.until <= self.since)


def _timestamp(value: datetime) -> str:
    return f"{sql_string(value.isoformat())}::timestamptz"


def _newest(table: DeltaTable) -> datetime | None:
    """The newest ingest time in the table's snapshot (reads that column only, through deltalake's own storage
    options, local or object storage)."""
    return pc.max(table.to_pyarrow_dataset().to_table(columns=[INGESTED_AT]).column(INGESTED_AT)).as_py()


def _rewritten_after(table: DeltaTable, covered: int) -> int | None:
    """The version of a rewrite after version `covered`, None when there was none. A rewrite older than the retained
    log (`last_rewrite` None) counts when `covered` is older than the log too: what happened in between is unknown."""
    rewritten = last_rewrite(table)
    if rewritten is None:
        oldest = min(commit["version"] for commit in table.history())
        return oldest if covered < oldest - 1 else None
    return rewritten if rewritten > covered else None


def previous_coverage(results: pl.DataFrame, suite: str) -> dict | None:
    """The latest validation of `suite` that passed: its version and watermark."""
    runs = (
        results.filter(
            (pl.col("suite") == suite) & pl.col("covered_version").is_not_null() & (pl.col("scope") != REPLACED)
        )
        .group_by("run_id", "validated_at")
        .agg(
            pl.col("scope").first(),
            pl.col("covered_version").first(),
            pl.col("covered_until").first(),
            passed=(pl.col("success") | (pl.col("severity") != "critical")).all(),
        )
        .filter(pl.col("passed"))
        .sort("validated_at")
    )
    return None if runs.is_empty() else runs.row(-1, named=True)


def batch_coverage(table: DeltaTable, results: pl.DataFrame, suite: str) -> Coverage:
    """The rows the next gate of `suite` validates in `table`'s current snapshot (see the module docstring)."""
    version, until = table.version(), _newest(table)
    previous = previous_coverage(results, suite)
    if previous is None:
        return Coverage(WHOLE_TABLE, version, until, reason="no earlier validation")
    if version < previous["covered_version"]:
        return Coverage(WHOLE_TABLE, version, until, reason=f"table recreated (version {version})")
    rewritten = _rewritten_after(table, previous["covered_version"])
    if rewritten is not None:
        return Coverage(WHOLE_TABLE, version, until, reason=f"table rewritten at version {rewritten}")
    since = previous["covered_until"]
    reason = f"rows ingested after {since}"
    return Coverage(BATCH, version, until, since=since, reason=reason, since_version=previous["covered_version"])


def whole_table(table: DeltaTable, reason: str) -> Coverage:
    return Coverage(WHOLE_TABLE, table.version(), _newest(table), reason=reason)

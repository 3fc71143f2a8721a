"""Retention per source: rows older than the contract's `retention_years` (counted from `retention_date_column`, or
from the row's ingest time) leave silver, and their bronze rows (same file and line) with them; the ingestion log's
counts follow, so the reconciliations still add up. Run by the weekly maintenance job, before it vacuums: the
removed rows stay readable by time travel until that vacuum's retention passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from deltalake import DeltaTable

from ingestion.catalog import Source, load_catalog
from ingestion.duckdb_delta import sql_string
from ingestion.lake import Lake
from privacy.lake_rows import PersonRows, adjust_log


@dataclass
class Expired:
    source: str
    cutoff: str
    silver_rows: int = 0
    bronze_rows: int = 0


def cutoff_for(source: Source, today: date) -> date:
    try:
        return today.replace(year=today.year - source.retention_years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - source.retention_years, day=28)


def expire_source(lake: Lake, source: Source, today: date) -> Expired | None:
    if not source.retention_years:
        return None
    silver_path, bronze_path = lake.silver(source.name), lake.bronze(source.name)
    options = lake.storage_options_for(silver_path) or None
    if not DeltaTable.is_deltatable(str(silver_path), options):
        return None
    cutoff = cutoff_for(source, today)
    column = source.retention_date_column or "_ingested_at"
    kind = source.column(column).type if source.retention_date_column else "ingested"
    bound = {
        "date": cutoff,
        "datetime": datetime.combine(cutoff, datetime.min.time()),
        "ingested": datetime.combine(cutoff, datetime.min.time(), UTC),
    }[kind]
    old = pl.col(column) < pl.lit(bound)
    silver = pl.scan_delta(str(silver_path), storage_options=options)
    expired = silver.filter(old.fill_null(False)).select("_source_file", "_row_number").collect()
    outcome = Expired(source.name, cutoff.isoformat())
    if expired.is_empty():
        return outcome
    bronze = (
        pl.scan_delta(str(bronze_path), storage_options=options)
        .join(expired.lazy(), on=["_source_file", "_row_number"], how="semi")
        .select("_file_hash", "_source_file", "_row_number")
        .collect()
    )
    outcome.silver_rows = _delete_lines(DeltaTable(str(silver_path), storage_options=options), expired)
    outcome.bronze_rows = _delete_lines(DeltaTable(str(bronze_path), storage_options=options), bronze)
    adjust_log(
        lake.ingestion_log,
        [
            PersonRows("bronze", f"bronze/{source.name}", source.name, bronze),
            PersonRows("silver", f"silver/{source.name}", source.name, expired),
        ],
    )
    return outcome


def _delete_lines(table: DeltaTable, lines: pl.DataFrame) -> int:
    """Delete the rows of `lines` (file, line): one commit per file."""
    deleted = 0
    for (file,), part in lines.group_by(["_source_file"]):
        numbers = ", ".join(str(n) for n in part["_row_number"])
        metrics = table.delete(f"_source_file = {sql_string(file)} AND _row_number IN ({numbers})")
        deleted += int(metrics["num_deleted_rows"])
    return deleted


def expire_past_retention(lake: Lake, today: date | None = None) -> list[Expired]:
    """Every source that declares a retention: its rows past it removed from silver and bronze."""
    today = today or datetime.now(UTC).date()
    outcomes = [expire_source(lake, source, today) for source in load_catalog().values()]
    return [o for o in outcomes if o is not None]

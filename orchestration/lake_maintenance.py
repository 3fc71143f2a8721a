"""Lake maintenance, weekly (`orchestration/schedules.py`): compact each Delta table's small files, vacuum the files
no kept version needs, and drop expired log entries (deltalake's `optimize.compact`, `vacuum`, `cleanup_metadata`).

Why: every refresh writes to the lake in small pieces (a commit per GX suite to the validation results, ~40 a night;
one per source and stage to the ingestion log; a day's file to each bronze and silver table), and a Delta table's
appends and reads slow down with its file count (figures in bench/README.md).

Files that compaction replaces stay `retention_hours` (default a week: time travel, and readers still on an older
snapshot) before a later vacuum deletes them. The warehouse's `silver` views name Parquet files, so they are
re-pointed whenever a silver table's files changed (in the warehouse pool, like dbt's step). Then every suite runs
on the whole table (`orchestration/whole_table_validation.py`): the batch gates never see a table whole.
"""

import time
from dataclasses import asdict, dataclass

from dagster import Config, MetadataValue, OpExecutionContext, Output, job, op
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError

from ingestion.catalog import load_catalog
from ingestion.duckdb_delta import open_delta
from ingestion.lake import Lake
from ingestion.warehouse_sources import expose_silver
from orchestration.resources import WAREHOUSE_POOL, LakeResource
from orchestration.whole_table_validation import test_warehouse_whole_tables, validate_whole_tables
from privacy.retention import expire_past_retention
from quality.results import QualityPaths


@dataclass
class TableMaintenance:
    table: str
    files_before: int = 0
    files_after: int = 0
    files_vacuumed: int = 0
    seconds: float = 0.0
    note: str = ""  # why a table was left alone


def lake_tables(lake: Lake) -> dict[str, object]:
    """Every Delta table the pipeline writes, by a readable name → its location (Path, or URI on object storage)."""
    paths = QualityPaths.of(lake)
    tables: dict[str, object] = {}
    for name in load_catalog():
        tables[f"bronze/{name}"], tables[f"silver/{name}"] = lake.bronze(name), lake.silver(name)
    tables |= {
        "quarantine": lake.quarantine,
        "ingestion_log": lake.ingestion_log,
        "quality/validation_results": paths.results,
        "quality/scorecard_daily": paths.scorecard,
    }
    return tables


def maintain_table(name: str, path, storage_options: dict, *, max_files: int, retention_hours: int) -> TableMaintenance:
    """Compact the table when it holds more than `max_files` files, then vacuum and clean up its log."""
    started, outcome = time.perf_counter(), TableMaintenance(name)
    if not DeltaTable.is_deltatable(str(path), storage_options or None):
        outcome.note = "not built yet"
        return outcome
    table = open_delta(path, storage_options)
    outcome.files_before = outcome.files_after = len(table.file_uris())
    if outcome.files_before > max_files:
        try:
            table.optimize.compact()
        except CommitFailedError as error:  # a write of the running refresh won: compact again next week
            outcome.note = f"compaction skipped, a concurrent write committed first ({error})"
        outcome.files_after = len(table.file_uris())
    # retention is this job's setting, not the table's 7-day default, so a shorter one is the operator's choice
    outcome.files_vacuumed = len(
        table.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False)
    )
    table.cleanup_metadata()
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


class MaintenanceConfig(Config):
    max_files: int = 32  # compact a table holding more files than this
    retention_hours: int = 168  # keep replaced files this long before deleting them


@op(pool=WAREHOUSE_POOL)  # re-points the warehouse's silver views: one DuckDB writer at a time
def maintain_lake_tables(
    context: OpExecutionContext, config: MaintenanceConfig, lake_resource: LakeResource
) -> Output[list[dict]]:
    lake = lake_resource.lake()
    expired = [asdict(e) for e in expire_past_retention(lake)]  # contracts' retention_years, before the vacuum
    context.log.info(f"past retention: {expired}")
    outcomes = []
    for name, path in lake_tables(lake).items():
        outcome = maintain_table(
            name,
            path,
            lake.storage_options_for(path),
            max_files=config.max_files,
            retention_hours=config.retention_hours,
        )
        if outcome.files_before:
            context.log.info(
                f"{name}: {outcome.files_before} → {outcome.files_after} files, "
                f"{outcome.files_vacuumed} vacuumed ({outcome.seconds} s) {outcome.note}".rstrip()
            )
        outcomes.append(outcome)
    # views still naming a replaced file (this compaction, or an upsert whose dbt step never ran) are re-pointed
    changed_silver = [
        o.table
        for o in outcomes
        if o.table.startswith("silver/") and (o.files_after < o.files_before or o.files_vacuumed)
    ] + [f"silver/{e['source']}" for e in expired if e["silver_rows"]]
    if changed_silver:
        expose_silver(lake)
        context.log.info(f"warehouse silver views re-pointed: {', '.join(changed_silver)} changed files")
    rows = [asdict(o) for o in outcomes]
    return Output(
        rows,
        metadata={
            "files_before": sum(o.files_before for o in outcomes),
            "files_after": sum(o.files_after for o in outcomes),
            "files_vacuumed": sum(o.files_vacuumed for o in outcomes),
            "rows_past_retention": MetadataValue.json(expired),
            "tables": MetadataValue.md(
                "| table | files before | after | vacuumed | s | note |\n|---|---|---|---|---|---|\n"
                + "\n".join(
                    f"| {o.table} | {o.files_before} | {o.files_after} | {o.files_vacuumed} | {o.seconds} | {o.note} |"
                    for o in outcomes
                )
            ),
        },
    )


@job(
    description="Compact small files, vacuum replaced ones and clean the logs of every Delta table in the lake, then "
    "validate every bronze and silver table whole and run the warehouse's batch-scoped dbt tests on every row."
)
def lake_maintenance():
    maintained = maintain_lake_tables()
    validate_whole_tables(after=maintained)
    test_warehouse_whole_tables(after=maintained)

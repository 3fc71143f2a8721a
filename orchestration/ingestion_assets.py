"""Bronze and silver assets, generated from the source catalog: a new source is a YAML file, not new code.

Each bronze asset carries two checks computed while it loads: `landed_rows_reconcile` (blocking: for every
landed file, landed rows = bronze rows + quarantined lines, counted again from the Delta tables) and
`contract_columns` (a file of the landing zone missing a required column, or unreadable, fails it with the column
or the reason, on every run until it is re-sent or taken out of landing; new undeclared columns are reported as
schema evolution). Each silver asset carries
`silver_rows_reconcile` (blocking: bronze = silver + quarantined + superseded) and `column_types` (a column whose
values mostly stopped typing in a new file, i.e. a type change, fails it naming the column).

Sources with `partitioned_by: file_date` (dossiers) have daily partitions keyed by the date in the file name:
a partitioned run (a backfill from the UI) loads that day's files; an unpartitioned run (the `warehouse_refresh`
job, the landing sensor) loads every new file and records a materialization for each day it touched.
"""

from datetime import date, timedelta

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    DailyPartitionsDefinition,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)
from deltalake import DeltaTable

from ingestion.bronze import BronzeLoad, load_bronze
from ingestion.catalog import Source, load_catalog
from ingestion.extracts import landing_files
from ingestion.ingestion_log import read_log
from ingestion.lake import Lake
from ingestion.quarantine import quarantined_counts
from ingestion.silver import SilverBuild, build_silver
from orchestration.resources import LakeResource

DELTA_TYPES = {
    "string": "string",
    "date": "date",
    "datetime": "timestamp",
    "integer": "int64",
    "float": "float64",
    "boolean": "bool",
}
# First day a dossier extract can be dated: the 1 July 2025 administrative reform started the current codes.
PARTITIONS_START = "2025-07-01"
daily_file_partitions = DailyPartitionsDefinition(start_date=PARTITIONS_START, end_offset=1)


def bronze_key(source: Source) -> AssetKey:
    return AssetKey(["bronze", source.name])


def silver_key(source: Source) -> AssetKey:
    """Matches dagster-dbt's key for the dbt source `silver.<name>`, which joins the two graphs."""
    return AssetKey(["silver", source.name])


def _silver_schema(source: Source) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(c.name, DELTA_TYPES[c.type], description=f"{c.header}{' (personal data)' if c.pii else ''}")
            for c in source.columns
        ]
    )


def reconcile_bronze(source: Source, lake: Lake) -> list[str]:
    """Every file in the log: landed rows = rows in bronze with its hash + its lines quarantined (a file quarantined
    whole must be in the quarantine; a copy of a known file lands no rows)."""
    log = read_log(lake.ingestion_log, source.name, "bronze")
    if log.is_empty():
        return []
    bronze_path = lake.bronze(source.name)
    in_bronze = {}
    if DeltaTable.is_deltatable(str(bronze_path)):
        counts = pl.scan_delta(str(bronze_path)).group_by("_file_hash").agg(n=pl.len()).collect()
        in_bronze = dict(zip(counts["_file_hash"], counts["n"]))
    quarantined = quarantined_counts(lake.quarantine, source.name)
    whole_files = set(quarantined.filter(pl.col("stage") == "read")["file_hash"])
    lines = dict(quarantined.filter(pl.col("stage") == "line").select("file_hash", "rows").iter_rows())
    problems = []
    for row in log.iter_rows(named=True):
        landed, digest = row["landed_rows"], row["file_hash"]
        if row["status"] == "duplicate":
            if landed:
                problems.append(f"{row['file']}: a copy of a known file logged {landed:,} landed rows")
            continue
        if row["status"] == "failed":
            if digest not in whole_files:
                problems.append(f"{row['file']}: unreadable file is not in quarantine")
            continue
        found, bad = in_bronze.get(digest, 0), lines.get(digest, 0)
        if landed != found + bad:
            problems.append(f"{row['file']}: {landed:,} rows landed, {found:,} in bronze, {bad:,} lines quarantined")
    return problems


def quarantined_files(source: Source, lake: Lake) -> list[dict]:
    """Files in the landing zone whose content (the latest under that name) was quarantined whole: the state that
    `contract_columns` reports, the same on every run until the file is re-sent fixed or taken out of landing."""
    log = read_log(lake.ingestion_log, source.name, "bronze").filter(pl.col("status") != "duplicate")
    if log.is_empty():
        return []
    present = {path.name for path in landing_files(source, lake.landing)}
    latest = log.sort("ingested_at").group_by("file", maintain_order=True).last()
    failed = latest.filter((pl.col("status") == "failed") & pl.col("file").is_in(sorted(present))).sort("file")
    return [{"file": r["file"], "sha256": r["file_hash"], "error": r["error"]} for r in failed.iter_rows(named=True)]


def _partition_date(context: AssetExecutionContext) -> date | None:
    return date.fromisoformat(context.partition_key) if context.has_partition_key else None


def _bronze_checks(source: Source, lake: Lake, load: BronzeLoad) -> list[AssetCheckResult]:
    key = bronze_key(source)
    problems = reconcile_bronze(source, lake)
    log = read_log(lake.ingestion_log, source.name, "bronze")
    reconcile = AssetCheckResult(
        asset_key=key,
        check_name="landed_rows_reconcile",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description=(
            "every landed file: landed rows = bronze rows + quarantined rows"
            if not problems
            else "rows lost between landing and bronze: " + "; ".join(problems[:10])
        ),
        metadata={
            "files": log.height,
            "landed_rows": int(log["landed_rows"].sum() or 0),
            "bronze_rows": int(log["bronze_rows"].sum() or 0),
            "quarantined_rows": int(log["quarantined_rows"].sum() or 0),
            "problems": MetadataValue.json(problems),
        },
    )
    quarantined = quarantined_files(source, lake)
    missing_columns = [f for f in quarantined if "missing required column" in f["error"]]
    failures = [f["error"] for f in [*missing_columns, *[f for f in quarantined if f not in missing_columns]]]
    evolution = [f"{file}: new column(s) {', '.join(cols)}" for file, cols in load.new_columns.items()]
    contract = AssetCheckResult(
        asset_key=key,
        check_name="contract_columns",
        passed=not failures,
        severity=AssetCheckSeverity.ERROR if missing_columns else AssetCheckSeverity.WARN,
        description=(
            f"{len(failures)} file(s) in the landing zone quarantined whole: " + "; ".join(failures[:10])
            if failures
            else (
                "every file in the landing zone carries the contract's columns"
                + (f" (schema evolution: {'; '.join(evolution)})" if evolution else "")
            )
        ),
        metadata={
            "files_quarantined_whole": MetadataValue.json(quarantined),
            "new_columns": MetadataValue.json(load.new_columns),
            "lines_quarantined": int(log["quarantined_rows"].filter(log["status"] != "failed").sum() or 0),
            "notes": MetadataValue.json(load.notes),
        },
    )
    return [reconcile, contract]


def _silver_checks(source: Source, build: SilverBuild) -> list[AssetCheckResult]:
    key = silver_key(source)
    accounted = build.silver_rows + build.quarantined_rows + build.superseded_rows
    reconcile = AssetCheckResult(
        asset_key=key,
        check_name="silver_rows_reconcile",
        passed=accounted == build.bronze_rows,
        severity=AssetCheckSeverity.ERROR,
        description=(
            f"bronze {build.bronze_rows:,} = silver {build.silver_rows:,} + quarantined "
            f"{build.quarantined_rows:,} + superseded {build.superseded_rows:,}"
            + ("" if accounted == build.bronze_rows else f": {build.bronze_rows - accounted:,} rows unaccounted")
            + (f"; keys repeated within a file ({source.duplicate_keys}), see metadata" if build.duplicate_keys else "")
        ),
        metadata={
            "bronze_rows": build.bronze_rows,
            "silver_rows": build.silver_rows,
            "quarantined_rows": build.quarantined_rows,
            "superseded_rows": build.superseded_rows,
            "duplicate_keys": MetadataValue.json(build.duplicate_keys),
        },
    )
    types = AssetCheckResult(
        asset_key=key,
        check_name="column_types",
        passed=not build.type_changes,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(build.type_changes) if build.type_changes else "no column changed type in new files",
        metadata={"type_changes": MetadataValue.json(build.type_changes)},
    )
    return [reconcile, types]


def build_source_assets(source: Source) -> list[AssetsDefinition]:
    partitioned = source.partitioned_by == "file_date"

    @asset(
        key=bronze_key(source),
        group_name="bronze",
        kinds={"polars", "deltalake"},
        partitions_def=daily_file_partitions if partitioned else None,
        description=f"{source.title} ({source.department}): every row of every landed {source.format} file, "
        f"as raw text with file, hash, line and ingestion time."
        + (" Daily partitions by the date in the file name." if partitioned else ""),
        metadata={
            "landing_pattern": source.pattern,
            "contract": str(source.path.name),
            "format": source.format,
            "encoding": source.encoding,
            "load_mode": source.load_mode,
            "freshness_hours": source.freshness_hours,
        },
        check_specs=[
            AssetCheckSpec(
                "landed_rows_reconcile",
                asset=bronze_key(source),
                blocking=True,
                description="For every landed file: landed rows = bronze rows + quarantined rows.",
            ),
            AssetCheckSpec(
                "contract_columns",
                asset=bronze_key(source),
                description="New files carry the contract's required columns; new columns reported.",
            ),
        ],
    )
    def bronze(context: AssetExecutionContext, lake_resource: LakeResource):
        lake = lake_resource.lake()
        day = _partition_date(context) if partitioned else None
        lines: list[str] = []  # one log event for the load, not one per file (1,000+ daily files at province scale)
        load = load_bronze(
            source,
            lake.landing,
            lake.bronze(source.name),
            log=lines.append,
            quarantine_path=lake.quarantine,
            log_path=lake.ingestion_log,
            partition_date=day,
        )
        if lines:
            context.log.info("\n".join(lines))
        context.log.info(
            f"{source.name}: {len(load.files_new)} new file(s), {load.rows_written:,} rows appended, "
            f"{len(load.files_skipped)} already ingested, {len(load.files_failed)} quarantined whole"
        )
        for failure in load.files_failed:
            context.log.error(f"{source.name}: {failure['error']}")
        if partitioned and day is None:
            # An unpartitioned run (refresh, sensor) reports each day it loaded, so the partition view is true.
            days = sorted(
                {
                    f["file_date"]
                    for f in read_log(lake.ingestion_log, source.name, "bronze")
                    .filter(pl.col("file").is_in([f["file"] for f in load.files_new]))
                    .iter_rows(named=True)
                    if f["file_date"]
                }
            )
            for loaded_day in days:
                yield AssetMaterialization(
                    asset_key=bronze_key(source),
                    partition=loaded_day.isoformat(),
                    metadata={"loaded_by": "unpartitioned run (all new files)"},
                )
        yield MaterializeResult(
            metadata={
                "dagster/row_count": load.table_rows,
                "rows_appended": load.rows_written,
                "files_ingested": MetadataValue.json(load.files_new),
                "files_skipped": MetadataValue.json(load.files_skipped),
                "files_quarantined_whole": MetadataValue.json(load.files_failed),
                "new_columns": MetadataValue.json(load.new_columns),
                "delta_version": load.table_version,
                "path": MetadataValue.path(str(lake.bronze(source.name))),
            },
            check_results=_bronze_checks(source, lake, load),
        )

    @asset(
        key=silver_key(source),
        deps=[bronze.key],
        group_name="silver",
        kinds={"polars", "deltalake"},
        description=f"{source.title}: typed, NFC-normalised rows that meet the contract, one per "
        f"{', '.join(source.primary_key)} ({source.load_mode}). Rows that break it go to the quarantine "
        f"table.",
        metadata={"dagster/column_schema": _silver_schema(source), "load_mode": source.load_mode},
        # Silver is rebuilt from bronze in the same run, so a stale bronze shows here as a stale silver.
        freshness_policy=FreshnessPolicy.time_window(fail_window=timedelta(hours=source.freshness_hours)),
        check_specs=[
            AssetCheckSpec(
                "silver_rows_reconcile",
                asset=silver_key(source),
                blocking=True,
                description="bronze rows = silver + quarantined + superseded rows.",
            ),
            AssetCheckSpec(
                "column_types",
                asset=silver_key(source),
                description="No contract column changed type in the new files.",
            ),
        ],
    )
    def silver(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
        lake = lake_resource.lake()
        build = build_silver(
            source, lake.bronze(source.name), lake.silver(source.name), lake.quarantine, lake.ingestion_log
        )
        context.log.info(
            f"{source.name} ({build.mode}, {build.batch_rows:,} new bronze rows): "
            f"{build.bronze_rows:,} bronze rows → {build.silver_rows:,} silver, "
            f"{build.quarantined_rows:,} quarantined, {build.superseded_rows:,} superseded"
        )
        for rule, count in build.reasons.items():
            context.log.warning(f"{source.name}: quarantined {count:,} row(s): {rule}")
        for change in build.type_changes:
            context.log.error(change)
        return MaterializeResult(
            metadata={
                "dagster/row_count": build.silver_rows,
                "bronze_rows": build.bronze_rows,
                "quarantined_rows": build.quarantined_rows,
                "superseded_rows": build.superseded_rows,
                "write_mode": build.mode,
                "batch_rows": build.batch_rows,
                "inserted_rows": build.inserted_rows,
                "updated_rows": build.updated_rows,
                "files_applied": MetadataValue.json(build.files_applied),
                "quarantine_reasons": MetadataValue.json(build.reasons),
                "path": MetadataValue.path(str(lake.silver(source.name))),
            },
            check_results=_silver_checks(source, build),
        )

    return [bronze, silver]


CATALOG = load_catalog()
ingestion_assets = [a for source in CATALOG.values() for a in build_source_assets(source)]

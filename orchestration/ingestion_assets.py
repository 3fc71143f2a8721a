"""Bronze and silver assets, generated from the source catalog: a new source is a YAML file, not new code."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)

from ingestion.bronze import load_bronze
from ingestion.catalog import Source, load_catalog
from ingestion.lake import Lake
from ingestion.silver import build_silver

DELTA_TYPES = {"string": "string", "date": "date", "integer": "int64", "float": "float64"}


def bronze_key(source: Source) -> AssetKey:
    return AssetKey(["bronze", source.name])


def silver_key(source: Source) -> AssetKey:
    """Matches dagster-dbt's key for the dbt source `silver.<name>`, which joins the two graphs."""
    return AssetKey(["silver", source.name])


def _silver_schema(source: Source) -> TableSchema:
    return TableSchema(columns=[
        TableColumn(c.name, DELTA_TYPES[c.type], description=f"{c.header}{' (personal data)' if c.pii else ''}")
        for c in source.columns
    ])


def build_source_assets(source: Source) -> list[AssetsDefinition]:
    @asset(
        key=bronze_key(source),
        group_name="bronze",
        kinds={"polars", "deltalake"},
        description=f"{source.title} ({source.department}): every row of every landed {source.format} file, "
                    f"as raw text with file, hash, line and ingestion time.",
        metadata={"landing_pattern": source.pattern, "contract": str(source.path.name)},
    )
    def bronze(context: AssetExecutionContext) -> MaterializeResult:
        lake = Lake.from_env()
        load = load_bronze(source, lake.landing, lake.bronze(source.name), log=context.log.info)
        context.log.info(f"{source.name}: {len(load.files_new)} new file(s), {load.rows_written:,} rows appended, "
                         f"{len(load.files_skipped)} already ingested")
        return MaterializeResult(metadata={
            "dagster/row_count": load.table_rows,
            "rows_appended": load.rows_written,
            "files_ingested": MetadataValue.json(load.files_new),
            "files_skipped": MetadataValue.json(load.files_skipped),
            "delta_version": load.table_version,
            "path": MetadataValue.path(str(lake.bronze(source.name))),
        })

    @asset(
        key=silver_key(source),
        deps=[bronze.key],
        group_name="silver",
        kinds={"polars", "deltalake"},
        description=f"{source.title}: typed, NFC-normalised rows that meet the contract, one per "
                    f"{', '.join(source.primary_key)}. Rows that break it go to the quarantine table.",
        metadata={"dagster/column_schema": _silver_schema(source)},
    )
    def silver(context: AssetExecutionContext) -> MaterializeResult:
        lake = Lake.from_env()
        build = build_silver(source, lake.bronze(source.name), lake.silver(source.name), lake.quarantine)
        context.log.info(f"{source.name}: {build.bronze_rows:,} bronze rows → {build.silver_rows:,} silver, "
                         f"{build.quarantined_rows:,} quarantined, {build.superseded_rows:,} superseded")
        for rule, count in build.reasons.items():
            context.log.warning(f"{source.name}: quarantined {count:,} row(s): {rule}")
        return MaterializeResult(metadata={
            "dagster/row_count": build.silver_rows,
            "bronze_rows": build.bronze_rows,
            "quarantined_rows": build.quarantined_rows,
            "superseded_rows": build.superseded_rows,
            "quarantine_reasons": MetadataValue.json(build.reasons),
            "path": MetadataValue.path(str(lake.silver(source.name))),
        })

    return [bronze, silver]


CATALOG = load_catalog()
ingestion_assets = [a for source in CATALOG.values() for a in build_source_assets(source)]

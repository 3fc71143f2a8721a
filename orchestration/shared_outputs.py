"""Shared outputs as Dagster assets: the analysts' marts file and the open-data export (issue 7).

`shared/shared_marts` runs after the dbt models it copies (their blocking GX gates must pass) and after the
quality scorecard, the last writer of warehouse.duckdb in a refresh: it reads the warehouse through a READ_ONLY
ATTACH and never writes it, and by then nothing else in the run writes it. It refuses to build without
TN_PSEUDONYM_KEY. Its blocking `no_personal_data` check is the PII scan of the very file it publishes (scanned under
its temporary name, then renamed unchanged): a leak fails the asset and the check, and nothing is published.
`open_data/catalog` exports the configured aggregates from the shared file, PII-scanned before they are renamed into
place with the population's identifiers and names from the warehouse (so it too opens the warehouse, read-only).
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.dbt_assets import warehouse_dbt_assets
from orchestration.quality_scorecard import SCORECARD
from orchestration.resources import BEFORE_OTHER_READY_STEPS, WAREHOUSE_POOL, LakeResource
from sharing.config import load_config
from sharing.open_data import export_open_data
from sharing.pii_scan import needles_from_file
from sharing.pseudonym import KEY_VARIABLE, PseudonymKeyError, key_from_env
from sharing.shared_file import PersonalDataLeak, build_shared_file

SHARED_MARTS = AssetKey(["shared", "shared_marts"])
OPEN_DATA = AssetKey(["open_data", "catalog"])


def _upstream_keys() -> list[AssetKey]:
    """The warehouse assets the configured tables come from (those Dagster knows), plus the scorecard."""
    known = {*warehouse_dbt_assets.keys, SCORECARD}
    wanted = {AssetKey(source.split(".")) for table in load_config().tables for source in table.sources}
    return sorted(known & wanted | {SCORECARD}, key=lambda k: k.to_user_string())


@asset(
    key=SHARED_MARTS,
    deps=_upstream_keys(),
    group_name="shared",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,  # attaches the warehouse file read-only
    op_tags=BEFORE_OTHER_READY_STEPS,
    check_specs=[
        AssetCheckSpec(
            "no_personal_data",
            asset=SHARED_MARTS,
            blocking=True,
            description="Every column of every table of the published shared_marts.duckdb scanned for CCCDs, phone "
            "numbers and population names (sharing/pii_scan.py); blocks the open-data export.",
        )
    ],
    description="lake/shared_marts.duckdb for analysts and the IOC: configured tables (sharing/"
    "shared_marts.yaml) with identifiers pseudonymised (HMAC-SHA256, key TN_PSEUDONYM_KEY), phones "
    "masked, commune small cells suppressed; PII-scanned before it replaces the previous file.",
)
def shared_marts_file(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
    lake = lake_resource.lake()
    try:
        outcome = build_shared_file(lake, load_config(), key_from_env())
    except PersonalDataLeak as leak:  # deterministic: retrying cannot help
        context.log.error(str(leak))
        raise Failure(description=str(leak), allow_retries=False) from leak
    except PseudonymKeyError as refusal:
        raise Failure(description=str(refusal), allow_retries=False) from refusal
    for skipped in outcome.skipped:
        context.log.warning(
            f"configured shared table {skipped['table']} skipped: none of {skipped['looked_for']} is in the warehouse"
        )
    if outcome.dropped_unclassified:
        context.log.warning(
            "personal-looking columns not in shared_marts.yaml were dropped: " + ", ".join(outcome.dropped_unclassified)
        )
    for table in (t for t in outcome.tables if t.copy.reason != "not incremental"):
        context.log.info(
            f"{table.name}: {table.copy.mode} copy ({table.copy.reason}), {table.copy.rows_written:,} rows written"
        )
    context.log.info(outcome.scan.summary())
    rows = sum(t.rows for t in outcome.tables)
    context.log.info(
        f"built {outcome.path} with {len(outcome.tables)} tables, {rows:,} rows in {outcome.seconds:.2f} s"
    )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(outcome.path)),
            "dagster/row_count": rows,
            "tables": MetadataValue.md(_tables_markdown(outcome)),
            "skipped_tables": MetadataValue.json(outcome.skipped),
            "dropped_unclassified_columns": MetadataValue.json(outcome.dropped_unclassified),
            "pii_scan": outcome.scan.summary(),
            "pii_scan_hits": sum(c.hit_count for c in outcome.scan.hits),
            "pii_columns_scanned": len(outcome.scan.columns),
            "build_seconds": round(outcome.seconds, 3),
            "pseudonym_key_variable": KEY_VARIABLE,
        },
        check_results=[_scan_result(outcome.scan)],
    )


def _scan_result(report) -> AssetCheckResult:
    return AssetCheckResult(
        check_name="no_personal_data",
        passed=not report.hits,
        description=report.summary(),
        metadata={
            "tables_scanned": len(report.tables),
            "columns_scanned": len(report.columns),
            "values_scanned": report.values_scanned,
            "hits": sum(c.hit_count for c in report.hits),
            "columns": MetadataValue.json([f"{c.table}.{c.column}" for c in report.columns]),
        },
    )


def _tables_markdown(outcome) -> str:
    lines = ["| table | from | rows | copied | suppressed rows | pseudonymised / masked |", "|---|---|---|---|---|---|"]
    for t in outcome.tables:
        treated = ", ".join(f"{c['column']} ({c['treatment']})" for c in t.columns if c["treatment"] != "keep")
        lines.append(
            f"| {t.name} | {t.source} | {t.rows:,} | {t.copy.mode}: {t.copy.reason} | "
            f"{t.suppressed_rows:,} | {treated or '–'} |"
        )
    return "\n".join(lines)


@asset(
    key=OPEN_DATA,
    deps=[SHARED_MARTS],
    group_name="shared",
    kinds={"parquet", "csv", "json"},
    pool=WAREHOUSE_POOL,  # reads the population's names and identifiers for its scan (warehouse attached read-only)
    description="Open data (portal style): configured aggregates from shared_marts.duckdb as CSV (UTF-8) and "
    "Parquet under "
    "lake/open_data/<dataset>/, with a DCAT entry each in lake/open_data/catalog.json.",
)
def open_data_catalog(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
    lake = lake_resource.lake()
    try:
        exported, skipped = export_open_data(
            lake.shared_marts, lake.open_data, load_config(), needles=needles_from_file(lake.warehouse)
        )
    except PersonalDataLeak as leak:  # deterministic: retrying cannot help
        context.log.error(str(leak))
        raise Failure(description=str(leak), allow_retries=False) from leak
    for s in skipped:
        context.log.warning(f"open dataset {s['dataset']} skipped: {s['table']} {s['reason']}")
    return MaterializeResult(
        metadata={
            "catalog": MetadataValue.path(str(lake.open_data / "catalog.json")),
            "datasets": MetadataValue.json({d.dataset: d.rows for d in exported}),
            "skipped_datasets": MetadataValue.json(skipped),
            "dagster/row_count": sum(d.rows for d in exported),
        }
    )


shared_assets = [shared_marts_file, open_data_catalog]

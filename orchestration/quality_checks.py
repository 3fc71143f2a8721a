"""Great Expectations suites as blocking Dagster asset checks: a failed critical expectation stops what is downstream.

Suites run with GX's SQL engine in DuckDB next to the data (Delta tables scanned through Arrow; see
`quality/duckdb_sql.py` and `bench/validation_sql_vs_pandas.py` for why not pandas). Every run's results are
appended to `lake/quality/validation_results` and published to GX Data Docs under `lake/quality/data_docs/`.
"""

from collections.abc import Callable

import duckdb
import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from ingestion.catalog import Source
from ingestion.lake import Lake
from orchestration.ingestion_assets import CATALOG, bronze_key, silver_key
from orchestration.resources import WAREHOUSE_POOL, LakeResource
from quality.gx_runner import WHERE_FROM, SuiteOutcome, validate_sql
from quality.results import QualityPaths, append_results, publish_data_docs, result_rows
from quality.suites import bronze_suite, dossier_on_time_mart_suite, silver_suite

ON_TIME_MART = AssetKey(["marts", "mart_dossier_on_time_by_agency_month"])


def check_result(outcome: SuiteOutcome, extra_metadata: dict | None = None) -> AssetCheckResult:
    """Critical failures → ERROR (blocks downstream); warnings only → WARN (reported, does not block)."""
    failed = [*outcome.critical_failures, *outcome.warnings]
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.ERROR if outcome.critical_failures else AssetCheckSeverity.WARN,
        description=outcome.summary(),
        metadata={
            "suite": outcome.suite,
            "rows_validated": outcome.rows,
            "expectations": len(outcome.outcomes),
            "critical_failures": len(outcome.critical_failures),
            "warnings": len(outcome.warnings),
            "failed_expectations": MetadataValue.json(
                [
                    {
                        "expectation": o.expectation,
                        "rule": o.rule,
                        "column": o.column,
                        "severity": o.severity,
                        "unexpected_count": o.unexpected_count,
                        "sample": o.sample,
                        "observed": str(o.observed),
                        **({"error": o.error} if o.error else {}),
                    }
                    for o in failed
                ]
            ),
            **(extra_metadata or {}),
        },
    )


def keep_results(
    context: AssetCheckExecutionContext, lake: Lake, outcome: SuiteOutcome, dataset: str, layer: str
) -> dict:
    """Append the outcome to the results table and Data Docs; returns metadata pointing at both."""
    append_results(lake, result_rows(outcome, dataset=dataset, layer=layer, run_id=context.run.run_id))
    paths = QualityPaths.of(lake)
    metadata = {"results_table": MetadataValue.path(str(paths.results))}
    try:
        index = publish_data_docs(lake, outcome, run_id=context.run.run_id, batch=f"{layer}.{dataset}")
        metadata["data_docs"] = MetadataValue.path(str(index))
    except Exception as error:  # Data Docs are a report: failing to render one must not decide a gate.
        context.log.warning(f"could not build GX Data Docs for {outcome.suite}: {error!r}")
    return metadata


def gx_check(
    asset_key: AssetKey,
    suite_name: str,
    layer: str,
    dataset: str,
    validate: Callable[[Lake], SuiteOutcome],
    pool: str | None = None,
) -> AssetChecksDefinition:
    @asset_check(
        asset=asset_key,
        name=f"gx_{layer}_suite",
        blocking=True,
        pool=pool,
        description=f"Great Expectations suite '{suite_name}' ({layer} layer); blocks downstream on failure.",
    )
    def _check(context: AssetCheckExecutionContext, lake_resource: LakeResource) -> AssetCheckResult:
        lake = lake_resource.lake()
        outcome = validate(lake)
        (context.log.info if outcome.passed else context.log.error)(outcome.summary())
        return check_result(outcome, keep_results(context, lake, outcome, dataset, layer))

    return _check


def _source_checks(source: Source) -> list[AssetChecksDefinition]:
    bronze_name, silver_name = f"bronze_{source.name}", f"silver_{source.name}"
    return [
        gx_check(
            bronze_key(source),
            bronze_name,
            "bronze",
            source.name,
            lambda lake: validate_sql(
                bronze_name,
                bronze_suite(source),
                source.name,
                delta_tables={source.name: lake.bronze(source.name)},
                index_columns=WHERE_FROM,
            ),
        ),
        gx_check(
            silver_key(source),
            silver_name,
            "silver",
            source.name,
            lambda lake: validate_sql(
                silver_name,
                silver_suite(source),
                source.name,
                delta_tables={source.name: lake.silver(source.name)},
                index_columns=WHERE_FROM,
            ),
        ),
    ]


def _validate_on_time_mart(lake: Lake) -> SuiteOutcome:
    """The mart is a small aggregate: read it once (read-only, connection closed at once) and validate in DuckDB."""
    silver_dossiers = pl.scan_delta(str(lake.silver("dossiers"))).select(pl.len()).collect().item()
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        mart = con.sql(f"select * from {'.'.join(ON_TIME_MART.path)}").to_arrow_table()
    name = ON_TIME_MART.path[-1]
    return validate_sql(
        "mart_dossier_on_time", dossier_on_time_mart_suite(silver_dossiers), name, arrow_tables={name: mart}
    )


quality_checks = [
    *[check for source in CATALOG.values() for check in _source_checks(source)],
    # reads the warehouse file: in the warehouse pool with dbt (orchestration/resources.py)
    gx_check(ON_TIME_MART, "mart_dossier_on_time", "mart", "dossiers", _validate_on_time_mart, pool=WAREHOUSE_POOL),
]

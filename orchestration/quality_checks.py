"""Great Expectations suites as blocking Dagster asset checks: a failed critical expectation stops what is downstream.

Suites run with GX's SQL engine in DuckDB next to the data (Delta tables scanned through Arrow; see
`quality/duckdb_sql.py` and `bench/validation_sql_vs_pandas.py` for why not pandas). A bronze or silver gate
validates the rows its run added (`quality/batch.py`); the mart's gate, a small aggregate, the whole mart. Every
check appends its results to `lake/quality/validation_results` and stores its GX result; the `quality/data_docs`
asset renders the run's Data Docs once (`orchestration/quality_docs.py`).
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
from quality.gx_runner import SuiteOutcome, validate_sql
from quality.results import QualityPaths, append_results, result_rows, store_validation_result
from quality.source_gates import LayerValidation, keep, validate_layer
from quality.suites import dossier_on_time_mart_suite

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


def coverage_metadata(validation: LayerValidation) -> dict:
    coverage = validation.coverage
    return {
        "scope": coverage.scope,
        "scope_reason": coverage.reason,
        "covered_version": coverage.version,
        **({"covered_until": coverage.until.isoformat()} if coverage.until else {}),
        **({"batch_since": coverage.since.isoformat()} if coverage.since else {}),
    }


def source_gate(source: Source, layer: str) -> AssetChecksDefinition:
    @asset_check(
        asset=bronze_key(source) if layer == "bronze" else silver_key(source),
        name=f"gx_{layer}_suite",
        blocking=True,
        description=f"Great Expectations suite '{layer}_{source.name}' ({layer} layer) on the rows this run added "
        "(the whole table the first time and after a rewrite); blocks downstream on failure.",
    )
    def _check(context: AssetCheckExecutionContext, lake_resource: LakeResource) -> AssetCheckResult:
        lake = lake_resource.lake()
        validation = validate_layer(lake, layer, source)
        metadata = {"results_table": MetadataValue.path(str(QualityPaths.of(lake).results))}
        metadata |= coverage_metadata(validation)
        if validation.outcome is None:
            description = f"suite {validation.suite}: no rows added since {validation.coverage.since}"
            context.log.info(description)
            return AssetCheckResult(passed=True, description=description, metadata={**metadata, "rows_validated": 0})
        outcome = validation.outcome
        (context.log.info if outcome.passed else context.log.error)(outcome.summary())
        keep(lake, validation, dataset=source.name, layer=layer, run_id=context.run.run_id)
        return check_result(outcome, metadata)

    return _check


def gx_check(
    asset_key: AssetKey,
    suite_name: str,
    layer: str,
    dataset: str,
    validate: Callable[[Lake], SuiteOutcome],
    pool: str | None = None,
) -> AssetChecksDefinition:
    """A whole-table suite (the marts) as a blocking check."""

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
        append_results(lake, result_rows(outcome, dataset=dataset, layer=layer, run_id=context.run.run_id))
        store_validation_result(lake, outcome, run_id=context.run.run_id, batch=f"{layer}.{dataset}")
        return check_result(outcome, {"results_table": MetadataValue.path(str(QualityPaths.of(lake).results))})

    return _check


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
    *[source_gate(source, layer) for source in CATALOG.values() for layer in ("bronze", "silver")],
    # reads the warehouse file: in the warehouse pool with dbt (orchestration/resources.py)
    gx_check(ON_TIME_MART, "mart_dossier_on_time", "mart", "dossiers", _validate_on_time_mart, pool=WAREHOUSE_POOL),
]

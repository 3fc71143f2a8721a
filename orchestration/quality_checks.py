"""Great Expectations suites as blocking Dagster asset checks: a failed critical expectation stops what is downstream."""

from collections.abc import Callable

import duckdb
import polars as pl
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetKey,
    MetadataValue,
    asset_check,
)

from ingestion.catalog import Source
from ingestion.lake import Lake
from orchestration.ingestion_assets import CATALOG, bronze_key, silver_key
from quality.gx_runner import SuiteOutcome, validate_frame
from quality.suites import bronze_suite, dossier_on_time_mart_suite, silver_suite

ON_TIME_MART = AssetKey(["marts", "mart_dossier_on_time_by_agency_month"])


def check_result(outcome: SuiteOutcome) -> AssetCheckResult:
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
            "failed_expectations": MetadataValue.json([
                {"expectation": o.expectation, "column": o.column, "severity": o.severity,
                 "unexpected_count": o.unexpected_count, "sample": o.sample, "observed": str(o.observed)}
                for o in failed
            ]),
        },
    )


def gx_check(asset_key: AssetKey, suite_name: str, layer: str,
             validate: Callable[[Lake], SuiteOutcome]) -> AssetChecksDefinition:
    @asset_check(asset=asset_key, name=f"gx_{layer}_suite", blocking=True,
                 description=f"Great Expectations suite '{suite_name}' ({layer} layer); blocks downstream on failure.")
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        outcome = validate(Lake.from_env())
        (context.log.info if outcome.passed else context.log.error)(outcome.summary())
        return check_result(outcome)

    return _check


def _source_checks(source: Source) -> list[AssetChecksDefinition]:
    bronze_name, silver_name = f"bronze_{source.name}", f"silver_{source.name}"
    return [
        gx_check(bronze_key(source), bronze_name, "bronze", lambda lake: validate_frame(
            bronze_name, bronze_suite(source), pl.read_delta(str(lake.bronze(source.name))))),
        gx_check(silver_key(source), silver_name, "silver", lambda lake: validate_frame(
            silver_name, silver_suite(source), pl.read_delta(str(lake.silver(source.name))))),
    ]


def _validate_on_time_mart(lake: Lake) -> SuiteOutcome:
    silver_dossiers = pl.scan_delta(str(lake.silver("dossiers"))).select(pl.len()).collect().item()
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        mart = con.sql(f"select * from {'.'.join(ON_TIME_MART.path)}").pl()
    return validate_frame("mart_dossier_on_time", dossier_on_time_mart_suite(silver_dossiers), mart)


quality_checks = [
    *[check for source in CATALOG.values() for check in _source_checks(source)],
    gx_check(ON_TIME_MART, "mart_dossier_on_time", "mart", _validate_on_time_mart),
]

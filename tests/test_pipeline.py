"""The walking skeleton end to end: extracts → bronze → silver → dbt → GX gates → mart, through Dagster."""

import duckdb
import polars as pl
import pytest
from dagster import AssetKey

from orchestration import dbt_runs
from orchestration.ingestion_assets import CATALOG
from orchestration.run_pipeline import lake_report, run_refresh
from tests.expected import on_time_by_agency_month
from tests.pipeline_run import refreshed_lake

MART = "marts.mart_dossier_on_time_by_agency_month"


def _mart(lake) -> pl.DataFrame:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        return con.sql(f"select * from {MART}").pl()


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """One lake, one Dagster instance and one successful refresh shared by the tests of this module (a refresh of
    all sources takes about a minute); the gate test, which adds a bad extract, runs last."""
    with refreshed_lake(tmp_path_factory.mktemp("pipeline")) as run:
        yield run


def test_mart_matches_figures_computed_from_the_extracts(refreshed):
    sample_lake, instance, result = refreshed
    assert result.success

    mart = _mart(sample_lake)
    landed = {
        (r["agency_code"], r["month"].strftime("%Y-%m")): (
            r["received_count"],
            r["resolved_count"],
            r["resolved_on_time_count"],
        )
        for r in mart.iter_rows(named=True)
    }
    assert landed == on_time_by_agency_month(sample_lake.landing)
    for row in mart.iter_rows(named=True):
        if row["resolved_count"]:
            assert row["on_time_rate"] == pytest.approx(row["resolved_on_time_count"] / row["resolved_count"])
    assert (sample_lake.published / "mart=mart_dossier_on_time_by_agency_month" / "data_0.parquet").exists()


def test_every_landed_row_is_in_silver_quarantine_or_superseded(refreshed):
    sample_lake, instance, result = refreshed
    assert result.success
    silver = {
        e.asset_key: e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "silver"
    }
    assert len(silver) == len(CATALOG)
    for key, metadata in silver.items():
        bronze_rows = metadata["bronze_rows"].value
        accounted = (
            metadata["dagster/row_count"].value + metadata["quarantined_rows"].value + metadata["superseded_rows"].value
        )
        assert bronze_rows == accounted, key
    quarantine = pl.read_delta(str(sample_lake.quarantine))
    assert quarantine.height > 0
    assert quarantine.filter(pl.col("reason").is_null() | pl.col("source_file").is_null()).is_empty()
    assert quarantine.filter(pl.col("reason").str.contains("applicant_cccd: '01923' does not match")).height > 0


def test_rerun_on_the_same_extracts_changes_no_row_count(refreshed):
    sample_lake, instance, result = refreshed
    assert result.success
    first = lake_report(sample_lake)
    second_run = run_refresh(instance)
    assert second_run.success
    assert lake_report(sample_lake) == first
    bronze = [
        m for m in second_run.get_asset_materialization_events() if m.asset_key == AssetKey(["bronze", "dossiers"])
    ]
    assert bronze[0].materialization.metadata["rows_appended"].value == 0


def test_dbt_keeps_only_its_newest_run_directories(refreshed, monkeypatch):
    """dagster-dbt leaves a directory per run under dbt_project/target/ (~6 MB); the dbt asset removes all but the
    newest KEEP_RUN_TARGETS."""
    _, instance, _ = refreshed
    monkeypatch.setattr(dbt_runs, "KEEP_RUN_TARGETS", 2)
    for _ in range(2):
        assert run_refresh(instance, asset_selection=[AssetKey(["conformed", "dim_agency"])]).success
    target = dbt_runs.DBT_PROJECT_DIR / dbt_runs.dbt_project.target_path
    assert len(list(target.glob("warehouse_dbt_assets-*"))) == 2


def test_failing_silver_suite_blocks_the_mart_and_names_the_expectation(refreshed):
    sample_lake, instance, result = refreshed
    assert result.success
    mart_before = _mart(sample_lake)
    published = sample_lake.published / "mart=mart_dossier_on_time_by_agency_month" / "data_0.parquet"
    published_before = published.read_bytes()

    # A new extract whose commune codes are all unknown: far past the 5% the silver suite tolerates.
    # (dossier extracts are daily files: take them all, so the bad share is far past 5%)
    bad = pl.concat([pl.read_csv(p, infer_schema_length=0) for p in (sample_lake.landing / "dossiers").glob("*.csv")])
    bad = bad.with_columns(pl.lit("99999").alias("Mã xã"), ("X" + pl.col("Mã hồ sơ")).alias("Mã hồ sơ"))
    pl.concat([bad] * 4).with_columns(
        ("Y" + pl.int_range(pl.len()).cast(pl.String) + pl.col("Mã hồ sơ")).alias("Mã hồ sơ")
    ).write_csv(sample_lake.landing / "dossiers" / "late.csv")

    result = run_refresh(instance)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed and e.severity.value == "ERROR"]
    assert [e.asset_check_key.to_user_string() for e in failed] == ["silver/dossiers:gx_silver_suite"]
    description = failed[0].description
    assert "suite silver_dossiers FAILED" in description
    assert "critical: expect_column_values_to_be_known_commune_code(commune_code)" in description
    assert failed[0].metadata["failed_expectations"].value[0]["sample"][0] == "99999 (late.csv:2)"  # value, file:line

    rebuilt = {m.asset_key for m in result.get_asset_materialization_events()}
    assert AssetKey(["silver", "dossiers"]) in rebuilt
    assert AssetKey(["marts", "mart_dossier_on_time_by_agency_month"]) not in rebuilt
    assert AssetKey(["published", "mart_dossier_on_time_by_agency_month"]) not in rebuilt
    assert _mart(sample_lake).equals(mart_before)
    assert published.read_bytes() == published_before  # consumers still read the last good mart

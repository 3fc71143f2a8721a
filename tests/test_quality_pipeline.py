"""The gates, the results table, Data Docs and the scorecard through the real pipeline (two Dagster runs in all):
a clean sample passes every suite and is scored; a bad extract fails its rule, blocks downstream and is recorded."""

import json
from datetime import UTC

import duckdb
import polars as pl
import pytest
from dagster import AssetKey

from ingestion import sample_data
from ingestion.catalog import load_catalog
from orchestration.run_pipeline import run_refresh
from quality.results import QualityPaths, read_results
from tests.pipeline_run import refreshed_lake

CATALOG = load_catalog()
SUITES = {f"{layer}_{name}" for name in CATALOG for layer in ("bronze", "silver")} | {"mart_dossier_on_time"}
DEPARTMENTS = {source.department for source in CATALOG.values()}
SCORECARD = AssetKey(["quality", "scorecard"])


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """A tiny sample with no deliberately bad rows and no one outside the registry, through the whole refresh once."""

    def clean_sample(patch):
        patch.setattr(sample_data, "BAD_ROW_SHARE", 0.0)
        patch.setattr(sample_data, "OUTSIDER_SHARE", 0.0)  # everyone resolves to the population registry

    with refreshed_lake(tmp_path_factory.mktemp("quality"), patch=clean_sample) as run:
        yield run


def test_clean_sample_passes_every_suite(clean_run):
    lake, _, result = clean_run
    assert result.success
    gx = {
        e.asset_check_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.asset_check_key.name.startswith("gx_")
    }
    assert len(gx) == len(SUITES) and all(e.passed for e in gx.values()), [e.description for e in gx.values()]

    results = read_results(lake).filter(pl.col("run_id") == result.run_id)
    assert set(results["suite"]) == SUITES
    assert results["success"].all()
    assert (QualityPaths.of(lake).data_docs / "index.html").exists()
    for suite in SUITES:
        assert (QualityPaths.of(lake).data_docs / "validations" / suite).is_dir()


def test_clean_sample_scorecard_in_dagster_and_duckdb(clean_run):
    lake, _, result = clean_run
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == SCORECARD]
    metadata = event.materialization.metadata
    assert "| dossiers |" in metadata["scorecard"].value and metadata["dagster/row_count"].value == len(CATALOG)

    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        card = con.sql("select * from quality.scorecard_daily").pl()
        departments = con.sql("select * from quality.scorecard_department_daily").pl()
        kept = con.execute("select count(*) from quality.validation_results").fetchone()[0]
    assert kept == read_results(lake).height > 0
    assert departments.height == len(DEPARTMENTS)
    catalog = load_catalog()
    scores = {r["dataset"]: r for r in card.iter_rows(named=True)}
    assert set(scores) == set(catalog)
    # By hand, for a clean sample landed just now: every validity rule passes, every required cell is filled and
    # nothing is quarantined or duplicated, data is fresh, all codes resolve; only dossiers feed a published mart.
    for name, row in scores.items():
        assert row["department"] == catalog[name].department
        assert (row["correct"], row["complete"], row["clean"], row["live"]) == (100,) * 4, row
        resolves_communes = any(c.reference == "commune" for c in catalog[name].columns)
        assert row["unified"] in ((100,) if resolves_communes else (100, None)), row
        assert row["quarantined_rows"] == row["duplicate_rows"] == 0
    # Both feed published marts (the on-time mart; dim_citizen → the commune health/education mart).
    assert scores["dossiers"]["shared"] == 100 and scores["citizens"]["shared"] == 100
    assert scores["dossiers"]["overall"] == 100 and scores["citizens"]["overall"] == 100


def test_bad_extract_fails_its_rule_blocks_downstream_and_is_recorded(clean_run):
    lake, instance, _ = clean_run
    # A late citizens extract whose CCCDs have 12 digits (the contract's shape) but province code 99, which
    # does not exist: silver accepts the rows, the silver suite's CCCD rule must stop them.
    first = pl.read_excel(next((lake.landing / "citizens").glob("*.xlsx")), infer_schema_length=0)
    bad = first.head(20).with_columns(pl.col("Số CCCD").cast(pl.String).str.replace(r"^0\d\d", "099"))
    bad.write_excel(lake.landing / "citizens" / "citizens_late.xlsx", worksheet="dan_cu", autofit=False)

    result = run_refresh(instance)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.asset_check_key.to_user_string() for e in failed] == ["silver/citizens:gx_silver_suite"]
    assert failed[0].severity.value == "ERROR"
    # The critical rule (past the 1% tolerance) and its warning twin (any bad value) both report the 20 rows.
    details = {d["severity"]: d for d in failed[0].metadata["failed_expectations"].value}
    assert set(details) == {"critical", "warning"}
    detail = details["critical"]
    assert (detail["rule"], detail["column"], detail["unexpected_count"]) == ("cccd", "cccd", 20)
    assert detail["sample"][0].startswith("099")

    built = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey(["silver", "citizens"]) in built
    assert AssetKey(["staging", "stg_citizens"]) not in built
    assert SCORECARD not in built

    recorded = read_results(lake).filter(pl.col("run_id") == result.run_id)
    failures = recorded.filter(~pl.col("success"))
    assert sorted(failures.select("suite", "rule", "severity", "unexpected_count").rows()) == [
        ("silver_citizens", "cccd", "critical", 20),
        ("silver_citizens", "cccd_all", "warning", 20),
    ]
    assert json.loads(failures["sample"][0])[0].startswith("099")


def test_scorecard_is_kept_per_day_and_ages(clean_run):
    """Scoring the same lake on later days adds a row per dataset and day (trends), and 'live' decays past the
    contract's freshness: dossiers (24 h) delivered ~36 h before 'now' score ~50; citizens (168 h) still 100."""
    from datetime import datetime, timedelta

    from quality.scorecard_signals import refresh_scorecard

    lake, _, _ = clean_run
    now = datetime.now(UTC)
    refresh_scorecard(lake, load_catalog(), as_of=now + timedelta(hours=36))
    later = refresh_scorecard(lake, load_catalog(), as_of=now + timedelta(hours=36))  # same day again: replaced
    scores = {r["dataset"]: r for r in later.iter_rows(named=True)}
    assert 49 <= scores["dossiers"]["live"] <= 50 and scores["citizens"]["live"] == 100
    assert scores["dossiers"]["expected_rows"] == scores["dossiers"]["rows"]  # baseline: the earlier day's rows

    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        per_day = con.execute("select day, count(*) from quality.scorecard_daily group by day order by day").fetchall()
    assert [count for _, count in per_day] == [len(CATALOG)] * 2 and per_day[1][0] > per_day[0][0]

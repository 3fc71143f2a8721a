"""Gates validate the batch (issue 17, decision 1) and the scorecard measures values (issue 20), on the real pipeline:
two refreshes of the tiny sample (the second lands one more day of dossiers, readings and visits), then copies of
that lake for what each test changes."""

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest
from dagster import AssetKey, DagsterInstance
from deltalake import write_deltalake

from bench.extra_day import add_extra_day
from ingestion import build_state
from ingestion.catalog import load_catalog
from ingestion.lake import Lake
from orchestration.dbt_project import DBT_PROJECT_DIR, dbt_project, dbt_resource
from orchestration.resources import LakeResource
from orchestration.run_pipeline import run_refresh
from orchestration.whole_table_validation import whole_table_validation
from quality.results import QualityPaths, read_results
from quality.scorecard import score
from quality.scorecard_signals import TABLE_SIGNALS, gather, refresh_scorecard
from quality.source_gates import keep, validate_layer
from quality.suites import cccd_pattern
from tests.pipeline_run import land_registry_update, refreshed_lake

CATALOG = load_catalog()
DOSSIERS = CATALOG["dossiers"]


def _gate(result, key: str):
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.asset_check_key.to_user_string() == key]
    return evaluation


@pytest.fixture(scope="module")
def two_refreshes(tmp_path_factory):
    """(lake, first run, second run, the extra day's files): the second run's batches are the extra day, and a
    registry update (an upsert replacing a citizen's row) that removes the citizen's phone number."""
    with refreshed_lake(tmp_path_factory.mktemp("batch")) as (lake, instance, first):
        extra = add_extra_day(lake.landing, "tiny", seed=7)
        registry = pl.read_delta(str(lake.silver("citizens")))
        citizen = registry.filter(pl.col("phone").is_not_null()).row(0, named=True)
        land_registry_update(lake, citizen, "citizens_update.xlsx", pl.lit(None, dtype=pl.String).alias("phone"))
        yield lake, first, run_refresh(instance), extra


@pytest.fixture
def lake_copy(two_refreshes, tmp_path, monkeypatch) -> Lake:
    """A copy of the twice-refreshed lake as the current lake (TN_LAKE_DIR), for a test that changes it."""
    shutil.copytree(two_refreshes[0].root, tmp_path / "lake", symlinks=True)
    monkeypatch.setenv("TN_LAKE_DIR", str(tmp_path / "lake"))
    return Lake.from_env()


def _whole_table_run(instance: DagsterInstance):
    return whole_table_validation.execute_in_process(
        instance=instance,
        resources={"lake_resource": LakeResource.from_env(), "dbt": dbt_resource()},
        raise_on_error=False,
    )


def test_second_refresh_validates_only_the_rows_it_added(two_refreshes):
    lake, first, second, extra = two_refreshes
    assert first.success and second.success
    silver = pl.read_delta(str(lake.silver("dossiers")))
    newest = silver["_ingested_at"].max()
    first_gate = _gate(first, "silver/dossiers:gx_silver_suite").metadata
    gate = _gate(second, "silver/dossiers:gx_silver_suite").metadata
    assert first_gate["scope"].value == "whole_table" and first_gate["rows_validated"].value < silver.height
    assert gate["scope"].value == "batch"
    assert gate["rows_validated"].value == silver.filter(pl.col("_ingested_at") == newest).height > 0
    assert gate["batch_since"].value == first_gate["covered_until"].value
    bronze_gate = _gate(second, "bronze/dossiers:gx_bronze_suite").metadata
    assert bronze_gate["rows_validated"].value == extra["dossiers"]["rows"]
    # a source that sent nothing new: passed, nothing validated, nothing recorded
    quiet = _gate(second, "silver/schools:gx_silver_suite")
    assert quiet.passed and quiet.metadata["rows_validated"].value == 0
    recorded = read_results(lake).filter(pl.col("run_id") == second.run_id)
    assert set(recorded["scope"]) == {"batch", "whole_table", "replaced"}  # the mart's gate is always whole
    assert "silver_schools" not in set(recorded["suite"])
    # the upsert: its gate validated the merged row; the row it replaced is recorded as it was, for the scorecard
    assert _gate(second, "silver/citizens:gx_silver_suite").metadata["rows_validated"].value == 1
    replaced = recorded.filter(pl.col("scope") == "replaced")
    assert set(replaced["suite"]) == {"silver_citizens"} and set(replaced["element_count"]) == {1}
    assert set(replaced["dimension"]) == {"validity"}
    # Data Docs rendered once, by their own step, with this run's pages
    [docs] = [e for e in second.get_asset_materialization_events() if e.asset_key == AssetKey(["quality", "data_docs"])]
    rendered = recorded.filter(pl.col("scope") != "replaced")["suite"].n_unique()
    assert docs.materialization.metadata["results_rendered"].value == rendered
    assert any((QualityPaths.of(lake).data_docs / "validations" / "silver_dossiers").rglob(f"*{second.run_id}*"))


def test_scorecard_after_batches_equals_scorecard_after_whole_table_validation(lake_copy):
    as_of = datetime.now(UTC)
    after_batches = {s.dataset: s for s in gather(lake_copy, CATALOG, as_of)}
    with DagsterInstance.ephemeral() as instance:
        assert _whole_table_run(instance).success
    after_whole = {s.dataset: s for s in gather(lake_copy, CATALOG, as_of)}
    results = read_results(lake_copy)
    dossier_runs = results.filter((pl.col("suite") == "silver_dossiers") & (pl.col("scope") == "batch"))
    assert dossier_runs["run_id"].n_unique() == 1  # the scores below did add a batch to a whole-table validation
    for name in CATALOG:
        assert (after_batches[name].validity_run, after_batches[name].validity_passed) == (
            after_whole[name].validity_run,
            after_whole[name].validity_passed,
        ), name
        assert score(after_batches[name]) == score(after_whole[name]), name
    assert after_whole["dossiers"].validity_run > 0


def test_scorecard_reads_again_only_the_tables_that_changed(lake_copy):
    as_of = datetime.now(UTC)
    first = {s.dataset: s for s in gather(lake_copy, CATALOG, as_of)}  # the refreshes' signals, from the store
    for name in CATALOG:
        build_state.forget(lake_copy, TABLE_SIGNALS.format(name))
    fresh = {s.dataset: s for s in gather(lake_copy, CATALOG, as_of)}
    assert first == fresh
    recorded = {name: build_state.read(lake_copy, TABLE_SIGNALS.format(name)) for name in CATALOG}
    schools = pl.read_delta(str(lake_copy.silver("schools")))
    write_deltalake(str(lake_copy.silver("schools")), schools.head(1).to_arrow(), mode="append")
    again = {s.dataset: s for s in gather(lake_copy, CATALOG, as_of)}
    assert again["schools"].rows == fresh["schools"].rows + 1
    assert {n for n in CATALOG if build_state.read(lake_copy, TABLE_SIGNALS.format(n)) != recorded[n]} == {"schools"}


def test_scorecard_adds_appended_rows_to_its_signals_as_a_whole_read_counts_them(lake_copy):
    """A bronze batch with a row the table has, a new row twice and a row missing a required value, and a silver
    append: the stored signals get the new files added (no whole read) and equal a whole read of both tables."""
    as_of = datetime.now(UTC)
    gather(lake_copy, CATALOG, as_of)
    stored = build_state.read(lake_copy, TABLE_SIGNALS.format("dossiers"))
    bronze = pl.read_delta(str(lake_copy.bronze("dossiers")))
    required = next(c.name for c in DOSSIERS.columns if c.required and c.name != "dossier_id")
    new = bronze.tail(1).with_columns(pl.lit("LATE-1").alias("dossier_id"))
    blank = bronze.tail(1).with_columns(pl.lit("LATE-2").alias("dossier_id"), pl.lit(" ").alias(required))
    write_deltalake(
        str(lake_copy.bronze("dossiers")), pl.concat([bronze.head(1), new, new, blank]).to_arrow(), mode="append"
    )
    silver = pl.read_delta(str(lake_copy.silver("dossiers")))
    write_deltalake(str(lake_copy.silver("dossiers")), silver.head(2).to_arrow(), mode="append")
    added = {s.dataset: s for s in gather(lake_copy, CATALOG, as_of)}
    after = build_state.read(lake_copy, TABLE_SIGNALS.format("dossiers"))
    assert after.built_at > stored.built_at and after.whole_build_at == stored.whole_build_at  # added, not read whole
    before = json.loads(stored.built_from)
    assert added["dossiers"].duplicate_rows == before["duplicate_rows"] + 2
    assert added["dossiers"].required_filled == before["required_filled"] + 4 * len(DOSSIERS.required_columns) - 1
    assert added["dossiers"].rows == before["rows"] + 2
    build_state.forget(lake_copy, TABLE_SIGNALS.format("dossiers"))
    assert {s.dataset: s for s in gather(lake_copy, CATALOG, as_of)} == added


def test_a_bad_batch_fails_its_gate_and_blocks_downstream(lake_copy):
    """A day of dossiers whose CCCDs have the contract's 12 digits but a province code that does not exist in a
    third of the rows: silver accepts them, the silver gate (on that day only) stops the marts and publishing."""
    [extra] = (lake_copy.landing / "dossiers").glob("dossiers_2026-11-01.csv")
    day = pl.read_csv(extra, infer_schema_length=0)
    cccd = "Số CCCD người nộp"
    bad = day.with_columns(
        pl.concat_str(pl.lit("BAD-"), pl.col("Mã hồ sơ")).alias("Mã hồ sơ"),
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.col(cccd).str.replace(r"^0\d\d", "099"))
        .otherwise(pl.col(cccd))
        .alias(cccd),
    )
    bad.write_csv(lake_copy.landing / "dossiers" / "dossiers_2026-11-01_late.csv")
    with DagsterInstance.ephemeral() as instance:
        result = run_refresh(instance)
    assert not result.success
    gate = _gate(result, "silver/dossiers:gx_silver_suite")
    assert not gate.passed and gate.metadata["scope"].value == "batch"
    assert gate.metadata["rows_validated"].value <= bad.height
    failed = {d["rule"] for d in gate.metadata["failed_expectations"].value if d["severity"] == "critical"}
    assert failed == {"cccd"}
    built = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey(["silver", "dossiers"]) in built
    assert AssetKey(["marts", "mart_dossier_on_time_by_agency_month"]) not in built
    assert AssetKey(["published", "mart_dossier_on_time_by_agency_month"]) not in built


def _plant(lake: Lake, ingested_at: datetime) -> dict:
    """Append a second row with an existing dossier's key straight to silver (a write outside the pipeline)."""
    silver = pl.read_delta(str(lake.silver("dossiers")))
    twin = silver.head(1).with_columns(pl.lit(ingested_at, dtype=pl.Datetime("us", "UTC")).alias("_ingested_at"))
    write_deltalake(str(lake.silver("dossiers")), twin.to_arrow(), mode="append")
    return twin.row(0, named=True)


def test_whole_table_validation_catches_a_duplicate_key_no_batch_gate_sees(lake_copy):
    oldest = pl.read_delta(str(lake_copy.silver("dossiers")))["_ingested_at"].min()
    _plant(lake_copy, oldest)  # among the rows already validated: no gate's batch holds it
    assert validate_layer(lake_copy, "silver", DOSSIERS).outcome is None
    with DagsterInstance.ephemeral() as instance:
        run = _whole_table_run(instance)
    assert not run.success
    [failure] = [e for e in run.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "silver_dossiers: unique_key(dossier_id)" in message
    recorded = read_results(lake_copy).filter(pl.col("run_id") == run.run_id)
    assert set(recorded["scope"]) == {"whole_table"} and recorded["suite"].n_unique() == 2 * len(CATALOG)
    unique = recorded.filter((pl.col("suite") == "silver_dossiers") & (pl.col("rule") == "unique_key"))
    assert unique.select("success", "unexpected_count").row(0) == (False, 2)


def test_weekly_dbt_tests_catch_a_duplicate_citizen_a_refresh_does_not_rewrite(lake_copy):
    """A refresh's dbt tests check the citizens it wrote; `dbt test` in the weekly job checks every row."""
    with duckdb.connect(str(lake_copy.warehouse)) as con:  # a write outside the pipeline, of a citizen left alone
        con.execute("insert into conformed.dim_citizen select * from conformed.dim_citizen limit 1")
    refresh = dbt_resource().cli(["build", "--select", "dim_citizen"], raise_on_error=False).wait()
    tests = {r["unique_id"].split(".")[2]: r["status"] for r in refresh.get_artifact("run_results.json")["results"]}
    assert tests["unique_dim_citizen_cccd"] == "pass"  # this build wrote no row of that citizen
    with DagsterInstance.ephemeral() as instance:
        run = _whole_table_run(instance)
    assert not run.success
    [failure] = [e for e in run.all_events if e.is_step_failure]
    assert failure.step_key == "test_warehouse_whole_tables"
    message = failure.step_failure_data.user_failure_data.description
    assert "unique_dim_citizen_cccd" in message and "unique_dim_citizen_citizen_key" in message
    assert "not_null_dim_citizen_cccd" not in message
    # its dbt run directory is named after the op, so the op's old ones are pruned like the refresh's
    assert list((DBT_PROJECT_DIR / dbt_project.target_path).glob(f"test_warehouse_whole_tables-{run.run_id[:7]}"))


def test_a_batch_key_already_in_the_table_fails_the_batch_gate(lake_copy):
    _plant(lake_copy, datetime.now(UTC))  # a new batch of one row, whose key silver already holds
    validation = validate_layer(lake_copy, "silver", DOSSIERS)
    assert validation.coverage.scope == "batch" and validation.outcome.rows == 1
    failures = {o.rule: o for o in validation.outcome.critical_failures}
    assert set(failures) == {"key_not_present"} and failures["key_not_present"].unexpected_count == 1
    # unique within the batch itself: that half of the rule holds
    assert [o.success for o in validation.outcome.outcomes if o.rule == "unique_key"] == [True]


def _department_lake(root, invalid_shares: dict[str, float], rows: pl.DataFrame) -> tuple[Lake, dict]:
    """Silver tables for made-up departments, each a copy of `rows` with `share` of its CCCDs invalid (12 digits,
    province 099, which does not exist), validated by their gates; returns the lake and the sources."""
    lake = Lake.from_settings(root)
    sources = {}
    for i, (department, share) in enumerate(invalid_shares.items()):
        source = replace(DOSSIERS, name=f"dossiers_{i}", department=department)
        bad = round(share * rows.height)
        table = rows.with_columns(
            pl.when(pl.int_range(pl.len()) < bad)
            .then(pl.lit("099") + pl.col("applicant_cccd").str.slice(3))
            .otherwise(pl.col("applicant_cccd"))
            .alias("applicant_cccd")
        )
        write_deltalake(str(lake.silver(source.name)), table.to_arrow())
        validation = validate_layer(lake, "silver", source)
        keep(lake, validation, dataset=source.name, layer="silver", run_id=f"test-{i}")
        sources[source.name] = source
    return lake, sources


def test_departments_rank_by_their_share_of_invalid_values(two_refreshes, tmp_path):
    """Three departments with the same 1,000 dossiers, 0 %, 0.5 % and 5 % of their CCCDs made invalid."""
    silver = pl.read_delta(str(two_refreshes[0].silver("dossiers")))
    rows = silver.filter(pl.col("applicant_cccd").str.contains(cccd_pattern())).head(1000)
    shares = {"Sở 0": 0.0, "Sở A": 0.005, "Sở B": 0.05}
    lake, sources = _department_lake(tmp_path / "lake", shares, rows)
    refresh_scorecard(lake, sources, as_of=datetime.now(UTC) + timedelta(seconds=1))
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        ranked = con.sql(
            "select department, correct, overall from quality.scorecard_department_daily order by overall desc"
        ).fetchall()
    assert [d for d, _, _ in ranked] == list(shares)
    assert ranked[0][1] > ranked[1][1] > ranked[2][1]
    # value level: a CCCD rule and its warning twin check the same values once; 5 (A) or 50 (B) more of them fail
    card = {r["dataset"]: r for r in pl.read_delta(str(QualityPaths.of(lake).scorecard)).iter_rows(named=True)}
    base, a, b = (card[f"dossiers_{i}"] for i in range(3))
    checked = base["validity_run"]
    assert a["validity_run"] == b["validity_run"] == checked > 1000
    invalid = [checked - card[f"dossiers_{i}"]["validity_passed"] for i in range(3)]
    assert [invalid[1] - invalid[0], invalid[2] - invalid[0]] == [5, 50]
    assert a["correct"] == round(100 * (1 - invalid[1] / checked), 1)


def test_coverage_follows_the_table_appends_merges_rewrites(tmp_path):
    """Batch after an append or a merge, whole table after a delete, the first time, and for a recreated table."""
    from deltalake import DeltaTable

    from quality.batch import batch_coverage
    from quality.gx_runner import ExpectationOutcome, SuiteOutcome
    from quality.results import RESULT_SCHEMA, result_rows

    path, t = str(tmp_path / "t"), [datetime(2026, 12, 1, h, tzinfo=UTC) for h in range(5)]

    def write(keys, at, mode="append"):
        frame = pl.DataFrame({"k": keys, "_ingested_at": [t[at]] * len(keys)})
        write_deltalake(path, frame.with_columns(pl.col("_ingested_at").dt.cast_time_unit("us")).to_arrow(), mode=mode)

    def validated(coverage, results, passed=True):
        outcome = SuiteOutcome("s", 1, [ExpectationOutcome("expect_x", "k", "critical", passed)])
        rows = result_rows(outcome, dataset="d", layer="silver", run_id=f"r{results.height}", coverage=coverage)
        return pl.concat([results, rows])

    write(["a", "b"], 0)
    first = batch_coverage(DeltaTable(path), pl.DataFrame(schema=RESULT_SCHEMA), "s")
    assert (first.scope, first.until) == ("whole_table", t[0])
    results = validated(first, pl.DataFrame(schema=RESULT_SCHEMA))
    write(["c"], 1)
    second = batch_coverage(DeltaTable(path), results, "s")
    assert (second.scope, second.since, second.until) == ("batch", t[0], t[1])
    results = validated(second, results, passed=False)  # a failed batch: the next one starts where it started
    DeltaTable(path).merge(
        pl.DataFrame({"k": ["a"], "_ingested_at": [t[2]]}).with_columns(pl.col("_ingested_at").dt.cast_time_unit("us")),
        predicate="t.k = s.k",
        source_alias="s",
        target_alias="t",
    ).when_matched_update_all().when_not_matched_insert_all().execute()
    third = batch_coverage(DeltaTable(path), results, "s")
    assert (third.scope, third.since, third.until, third.since_version) == ("batch", t[0], t[2], 0)
    results = validated(third, results)
    DeltaTable(path).delete("k = 'b'")
    assert batch_coverage(DeltaTable(path), results, "s").reason == "table rewritten at version 3"
    shutil.rmtree(path)
    write(["z"], 4, mode="overwrite")
    assert batch_coverage(DeltaTable(path), results, "s").scope == "whole_table"

"""The month- and day-grain marts are incremental by period (dbt_project/macros/mart_periods.sql): after several
incremental runs (a new day, a late dossier for an old month, a corrected feedback report, a deleted dossier) each
holds exactly the rows of a --full-refresh, and a run recomputed only the periods its new rows touch."""

import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable

from ingestion.lake import Lake
from tests.handmade_silver import dbt
from tests.pipeline_run import refreshed_lake

# mart: (period column, a count column an untouched period keeps when marked)
PERIOD_MARTS = {
    "mart_public_service_dossiers_monthly": ("month", "received_count"),
    "mart_dossier_on_time_by_agency_month": ("month", "received_count"),
    "mart_feedback_handling_monthly": ("month", "received_count"),
    "mart_province_overview_daily": ("day", "dossiers_received"),
    "mart_environment_exceedances": ("day", "reading_count"),
}
SELECT = ["--select", "int_dossiers", "int_feedback_versions", *PERIOD_MARTS]
MARKED = -1  # set on a period's rows before a run: still there afterwards means the run left the period alone


def _sql(lake: Lake, sql: str, params=None) -> pl.DataFrame:
    with duckdb.connect(str(lake.warehouse)) as con:
        return con.sql(sql, params=params).pl()


def _build(lake: Lake, mart: str, schema: str = "marts") -> dict:
    """The model's row in the state store, built_from parsed."""
    with duckdb.connect(str(lake.root / "build_state.duckdb"), read_only=True) as con:
        row = con.sql("select * from builds where object = ?", params=[f"{schema}.{mart}"]).pl().row(0, named=True)
    return {**row, "built_from": json.loads(row["built_from"])}


def _rebuilt(lake: Lake) -> dict[str, tuple[int, int]]:
    """(periods rebuilt by the last run, periods held) per mart."""
    facts = {mart: _build(lake, mart)["built_from"] for mart in PERIOD_MARTS}
    return {mart: (int(f["periods_rebuilt"]), int(f["periods"])) for mart, f in facts.items()}


def _mark_oldest_period(lake: Lake) -> dict[str, object]:
    """Mark the rows of each mart's oldest period; returns that period per mart."""
    oldest = {}
    for mart, (period, count) in PERIOD_MARTS.items():
        oldest[mart] = _sql(lake, f"select min({period}) from marts.{mart}")[0, 0]
        _sql(lake, f"create or replace table main.kept_{mart} as from marts.{mart} where {period} = ?", [oldest[mart]])
        _sql(lake, f"update marts.{mart} set {count} = {MARKED} where {period} = ?", [oldest[mart]])
    return oldest


def _still_marked(lake: Lake, oldest: dict[str, object]) -> dict[str, bool]:
    """Whether each mart's marked rows survived the run; puts their true values back."""
    kept = {}
    for mart, (period, count) in PERIOD_MARTS.items():
        values = _sql(lake, f"select distinct {count} from marts.{mart} where {period} = ?", [oldest[mart]])
        kept[mart] = values[count].to_list() == [MARKED]
        _sql(lake, f"delete from marts.{mart} where {period} = ?", [oldest[mart]])
        _sql(lake, f"insert into marts.{mart} from main.kept_{mart}; drop table main.kept_{mart}")
    return kept


def _assert_equal_to_full_refresh(lake: Lake, target) -> None:
    for mart in PERIOD_MARTS:
        _sql(lake, f"create or replace table main.incremental_{mart} as from marts.{mart}")
    dbt(lake, target, "run", "--full-refresh", *SELECT)
    for mart in PERIOD_MARTS:
        only_incremental, only_full = (
            _sql(lake, f"select count(*) from (from {a} except all from {b})")[0, 0]
            for a, b in ((f"main.incremental_{mart}", f"marts.{mart}"), (f"marts.{mart}", f"main.incremental_{mart}"))
        )
        assert (only_incremental, only_full) == (0, 0), mart
        assert _sql(lake, f"select count(*) from marts.{mart}")[0, 0] > 0, mart
        _sql(lake, f"drop table main.incremental_{mart}")


def _append(lake: Lake, source: str, rows: pl.DataFrame) -> None:
    """Rows as the silver loader appends them: a new file, ingested now."""
    rows.with_columns(
        pl.lit(f"{source}/incremental_test.csv").alias("_source_file"),
        pl.lit(datetime.now(UTC)).alias("_ingested_at"),
    ).write_delta(str(lake.silver(source)), mode="append")


def _silver(lake: Lake, source: str) -> pl.DataFrame:
    return pl.read_delta(str(lake.silver(source)))


def _new_day(lake: Lake) -> date:
    """A day of dossiers after the data's last day (open, due in 10 days) and a day of environment readings."""
    dossiers = _silver(lake, "dossiers")
    last = dossiers.select(pl.max_horizontal("received_date", "returned_date").max())[0, 0]
    day = last + timedelta(days=1)
    _append(
        lake,
        "dossiers",
        dossiers.head(5).with_columns(
            pl.format("NEXT-DAY-{}", pl.int_range(5)).alias("dossier_id"),
            pl.lit(day).alias("received_date"),
            pl.lit(day + timedelta(days=10)).alias("due_date"),
            pl.lit(None, dtype=pl.Date).alias("returned_date"),
            pl.lit("Đang xử lý").alias("status"),
        ),
    )
    readings = _silver(lake, "environment_readings")
    _append(
        lake,
        "environment_readings",
        readings.filter(pl.col("measured_at").dt.date() == readings["measured_at"].max().date()).with_columns(
            pl.col("measured_at") + timedelta(days=1)
        ),
    )
    return day


def _late_dossier(lake: Lake, returned: date) -> date:
    """A dossier received on the data's first day, sent late; resolved late, on `returned`."""
    dossiers = _silver(lake, "dossiers")
    first = dossiers["received_date"].min()
    _append(
        lake,
        "dossiers",
        dossiers.head(1).with_columns(
            pl.lit("LATE-1").alias("dossier_id"),
            pl.lit(first).alias("received_date"),
            pl.lit(first + timedelta(days=3)).alias("due_date"),
            pl.lit(returned).alias("returned_date"),
            pl.lit("Đã trả kết quả").alias("status"),
        ),
    )
    return first


def _correct_feedback(lake: Lake) -> date:
    """The earliest report corrected (upserted): submitted 31 days later, and rejected. Returns the month it entered
    (the data's latest time does not move)."""
    report = _silver(lake, "feedback").sort("submitted_at").head(1)
    corrected = report.with_columns(
        pl.col("submitted_at") + timedelta(days=31),
        pl.col("due_at") + timedelta(days=31),
        pl.lit(None, dtype=report["resolved_at"].dtype).alias("resolved_at"),
        pl.lit("Từ chối").alias("status"),
        pl.lit(datetime.now(UTC)).alias("_ingested_at"),
    )
    DeltaTable(str(lake.silver("feedback"))).merge(
        corrected.to_arrow(), predicate="t.report_id = s.report_id", source_alias="s", target_alias="t"
    ).when_matched_update_all().execute()
    return corrected["submitted_at"][0].date().replace(day=1)


@pytest.fixture(scope="module")
def incremental_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("marts_incremental")
    with refreshed_lake(root) as (lake, _, first):
        assert first.success
        yield lake, root / "dbt_target"


def test_incremental_runs_equal_full_refresh(incremental_lake):
    lake, target = incremental_lake
    dbt(lake, target, "run", *SELECT)  # the refresh built the marts; nothing new: no period recomputed
    assert {mart: rebuilt for mart, (rebuilt, _) in _rebuilt(lake).items()} == dict.fromkeys(PERIOD_MARTS, 0)

    # A new day: the dossier marts recompute the running month only, the daily ones the new day; the oldest periods
    # are left as they were (their marked rows are still there).
    oldest = _mark_oldest_period(lake)
    day = _new_day(lake)
    dbt(lake, target, "run", *SELECT)
    rebuilt = _rebuilt(lake)
    assert _still_marked(lake, oldest) == dict.fromkeys(PERIOD_MARTS, True)
    assert rebuilt["mart_dossier_on_time_by_agency_month"][0] == 1
    assert rebuilt["mart_public_service_dossiers_monthly"][0] <= 2 < rebuilt["mart_public_service_dossiers_monthly"][1]
    assert rebuilt["mart_province_overview_daily"][0] == 1 and rebuilt["mart_environment_exceedances"][0] == 1
    assert rebuilt["mart_feedback_handling_monthly"][0] == 0
    assert _sql(lake, "select max(day) from marts.mart_province_overview_daily")[0, 0] == day
    facts = _build(lake, "int_dossiers", schema="intermediate")
    assert facts["whole_build_at"] < facts["built_at"]  # the new day's dossiers were appended
    _assert_equal_to_full_refresh(lake, target)  # the running month's backlog counts dossiers from earlier months

    # A late dossier for the first month, resolved on the day before the new day: every month from the first on
    # (backlogs run on), but only two on-time rows: the first month's, and that of the month it was resolved in,
    # whose other dossiers resolved in it were received in earlier months.
    first = _late_dossier(lake, returned=day - timedelta(days=1))
    dbt(lake, target, "run", *SELECT)
    rebuilt = _rebuilt(lake)
    monthly = rebuilt["mart_public_service_dossiers_monthly"]
    assert monthly[0] == monthly[1] > 1
    assert rebuilt["mart_dossier_on_time_by_agency_month"][0] == 2
    overview = rebuilt["mart_province_overview_daily"]
    assert overview[0] == (day - first).days + 1 == overview[1]

    # A feedback report corrected into the next month: the month it left and the one it entered, nothing else.
    entered = _correct_feedback(lake)
    dbt(lake, target, "run", *SELECT)
    assert _rebuilt(lake)["mart_feedback_handling_monthly"][0] == 2
    assert _rebuilt(lake)["mart_dossier_on_time_by_agency_month"][0] == 0
    months = _sql(lake, "select distinct month from marts.mart_feedback_handling_monthly")["month"].to_list()
    assert entered in months

    _assert_equal_to_full_refresh(lake, target)

    # A dossier deleted in place (no newer ingest time anywhere): the silver table's rewrite marker changed, so the
    # dossier marts are rebuilt whole, without it.
    DeltaTable(str(lake.silver("dossiers"))).delete("dossier_id = 'LATE-1'")
    dbt(lake, target, "run", *SELECT)
    for mart in ("int_dossiers", "mart_public_service_dossiers_monthly", "mart_dossier_on_time_by_agency_month"):
        build = _build(lake, mart, schema="intermediate" if mart == "int_dossiers" else "marts")
        assert build["whole_build_at"] == build["built_at"], mart
    environment = _build(lake, "mart_environment_exceedances")
    assert environment["whole_build_at"] < environment["built_at"]
    received = _sql(lake, "select sum(received_count) from marts.mart_dossier_on_time_by_agency_month")[0, 0]
    assert received == _silver(lake, "dossiers").height
    _assert_equal_to_full_refresh(lake, target)

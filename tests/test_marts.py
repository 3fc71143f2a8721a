"""Conformed dims and IOC marts, through the real pipeline (Dagster → Delta → dbt) on the tiny sample plus an
extract still carrying pre-2025 commune codes; figures checked against values computed from the inputs."""

import time

import duckdb
import polars as pl
import pytest

from ingestion.lake import Lake
from orchestration.run_pipeline import run_refresh
from tests.expected_marts import (
    current_commune,
    dossier_figures_by_commune,
    latest_dossier_commune,
    split_dossier_count,
)
from tests.pipeline_run import land_registry_update, refreshed_lake

# Real pre-2025 codes and where they must land (from dbt_project/seeds/ref_commune_mapping_2025.csv).
OLD_CODES = {
    "01834": "01840",  # Bắc Kạn, Phường Nguyễn Thị Minh Khai → Phường Đức Xuân
    "05431": "05482",  # old Thái Nguyên, Phường Quán Triều → Phường Quan Triều
    "05437": "05443",  # old Thái Nguyên, Phường Túc Duyên → Phường Phan Đình Phùng
    "05461": None,  # old Phường Gia Sàng, split over 05443 and 05467: not placed
    "05932": None,  # old Xã Thượng Đình, split over 05908 and 05941: not placed
}
ANALYST_QUERY = """
    select commune_code, commune_name,
           sum(resolved_on_time_count) / nullif(sum(resolved_count), 0) as on_time_rate,
           sum(resolved_count) as resolved
    from marts.mart_public_service_dossiers_monthly
    where month = date_trunc('month', (select max(month) from marts.mart_public_service_dossiers_monthly))
      and commune_code is not null
    group by all
    order by on_time_rate, commune_code
"""


def _land_old_code_dossiers(lake: Lake) -> None:
    """A second dossier extract from a department still on pre-2025 commune codes."""
    extracts = sorted((lake.landing / "dossiers").glob("*.csv"))  # one per day: a single day is too small
    rows = (
        pl.concat([pl.read_csv(path, infer_schema_length=0) for path in extracts])
        .filter(
            pl.col("Ngày tiếp nhận").is_not_null(),  # the generator's deliberately bad rows: quarantined
            pl.col("Số CCCD người nộp").is_null() | pl.col("Số CCCD người nộp").str.contains(r"^\d{12}$"),
        )
        .head(len(OLD_CODES) * 12)
    )
    codes = pl.Series([code for code in OLD_CODES for _ in range(12)])
    rows.with_columns(("OLD-" + pl.col("Mã hồ sơ")).alias("Mã hồ sơ"), codes.alias("Mã xã")).write_csv(
        lake.landing / "dossiers" / "dossiers_legacy_codes.csv"
    )


GAP_CCCD = "019095000123"  # a registry entry whose commune cannot be placed; only a dossier says where they live


def _land_registry_gap(lake: Lake) -> None:
    """A registry extract with an unknown commune for GAP_CCCD, and one dossier of theirs in a known commune."""
    citizen = pl.read_excel(next((lake.landing / "citizens").glob("*.xlsx")), infer_schema_length=0).head(1)
    citizen.with_columns(pl.lit(GAP_CCCD).alias("Số CCCD"), pl.lit("99999").alias("Mã xã thường trú")).write_excel(
        lake.landing / "citizens" / "citizens_registry_gap.xlsx", worksheet="dan_cu", autofit=False
    )
    dossier = pl.read_csv(sorted((lake.landing / "dossiers").glob("*.csv"))[0], infer_schema_length=0).head(1)
    dossier.with_columns(
        pl.lit("GAP-1").alias("Mã hồ sơ"), pl.lit(GAP_CCCD).alias("Số CCCD người nộp"), pl.lit("05443").alias("Mã xã")
    ).write_csv(lake.landing / "dossiers" / "dossiers_gap.csv")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    def land_wrinkles(lake):
        _land_old_code_dossiers(lake)
        _land_registry_gap(lake)

    with refreshed_lake(tmp_path_factory.mktemp("marts"), prepare=land_wrinkles) as (lake, instance, result):
        assert result.success
        yield lake, instance


def _query(lake: Lake, sql: str, *params) -> pl.DataFrame:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        return con.sql(sql, params=list(params) or None).pl()


def test_on_time_figures_per_current_commune_match_the_extracts(built):
    lake, _ = built
    mart = _query(
        lake,
        """
        select commune_code, strftime(month, '%Y-%m') as month, sum(received_count) as received,
               sum(resolved_count) as resolved, sum(resolved_on_time_count) as on_time,
               sum(resolved_on_time_count) / nullif(sum(resolved_count), 0) as rate
        from marts.mart_public_service_dossiers_monthly
        where agency_code = 'H56.05' group by all""",
    )
    month = "2026-10"
    expected = dossier_figures_by_commune(lake.landing, "H56.05", month)
    landed = {
        r["commune_code"]: (r["received"], r["resolved"], r["on_time"])
        for r in mart.filter(pl.col("month") == month).iter_rows(named=True)
    }
    assert landed == expected
    assert len(expected) > 20  # many communes, so the comparison means something
    for row in mart.filter((pl.col("month") == month) & (pl.col("resolved") > 0)).iter_rows(named=True):
        received, resolved, on_time = expected[row["commune_code"]]
        assert row["rate"] == pytest.approx(on_time / resolved)


def test_old_commune_codes_land_on_the_current_commune(built):
    lake, _ = built
    mapped = _query(
        lake,
        """select commune_code, resolution, current_commune_code, split_candidate_codes,
                                    current_province_code
                             from conformed.dim_commune_code_map where commune_code in (?, ?, ?, ?, ?, ?, ?)""",
        *OLD_CODES,
        "05467",
        "06970",
    )
    got = {r["commune_code"]: r for r in mapped.iter_rows(named=True)}
    for old, new in OLD_CODES.items():
        assert got[old]["current_commune_code"] == new, old
        assert current_commune(old) == new  # the independent rule agrees
    assert got["05461"]["resolution"] == "split" and got["05461"]["split_candidate_codes"] == ["05443", "05467"]
    assert got["05461"]["current_province_code"] == "19"  # still counts for the province
    # A current code that was also an old (split) unit's code reads as the current commune, and is reported.
    assert got["05467"]["resolution"] == "current" and got["05467"]["current_commune_code"] == "05467"
    # The published mapping points Xã Ba Chẽ at 06970, absent from the 2025 list: matched by name to 06978.
    assert (got["06970"]["resolution"], got["06970"]["current_commune_code"]) == ("mapped_by_name", "06978")
    issues = _query(lake, "select issue_type, commune_code from conformed.admin_reference_issues")
    assert {
        ("split_commune", "05461"),
        ("code_reused_across_eras", "05467"),
        ("mapping_target_not_in_2025_list", "06970"),
    } <= set(issues.iter_rows())

    # The legacy extract's dossiers: counted on the current commune, split ones kept but not placed.
    legacy = _query(
        lake,
        """select commune_code, commune_code_resolution, current_commune_code
                             from intermediate.int_dossiers where dossier_id like 'OLD-%'""",
    )
    assert legacy.height == 12 * len(OLD_CODES)
    for row in legacy.iter_rows(named=True):
        assert row["current_commune_code"] == OLD_CODES[row["commune_code"]]
    placements = _query(
        lake,
        """select commune_placement, sum(received_count) as n
                                 from marts.mart_public_service_dossiers_monthly group by 1""",
    )
    assert dict(placements.iter_rows())["split"] == split_dossier_count(lake.landing) >= 24


def test_citizen_survivorship_registry_wins_and_dossiers_fill_gaps(built):
    lake, _ = built
    registry = pl.read_delta(str(lake.silver("citizens"))).select("cccd", "commune_code", "full_name")
    citizens = _query(
        lake,
        "select cccd, current_commune_code, commune_source, full_name, in_population_registry, "
        "sources from conformed.dim_citizen",
    )
    by_cccd = {r["cccd"]: r for r in citizens.iter_rows(named=True)}
    from_dossiers = latest_dossier_commune(lake.landing)

    filled_from_dossiers = 0
    for row in registry.iter_rows(named=True):
        citizen = by_cccd[row["cccd"]]
        assert citizen["in_population_registry"] and citizen["full_name"] == row["full_name"]
        registry_commune = current_commune(row["commune_code"])
        if registry_commune is not None:
            assert (citizen["current_commune_code"], citizen["commune_source"]) == (
                registry_commune,
                "population_registry",
            )
        elif set(citizen["sources"]) <= {"population_registry", "dossiers"}:
            # the registry's commune is unknown: the applicant's latest dossier fills it
            assert citizen["current_commune_code"] == from_dossiers.get(row["cccd"])
            filled_from_dossiers += citizen["commune_source"] == "dossiers"
    outside = [c for c in citizens.iter_rows(named=True) if not c["in_population_registry"]]
    only_dossiers = [c for c in outside if c["sources"] == ["dossiers"]]
    assert only_dossiers
    for citizen in only_dossiers:
        assert citizen["commune_source"] in ("dossiers", None)
        assert citizen["current_commune_code"] == from_dossiers[citizen["cccd"]]
    assert filled_from_dossiers > 0
    assert len(by_cccd) == registry.height + len(outside)


def test_marts_carry_no_personal_data_and_are_exported_to_parquet(built):
    lake, _ = built
    columns = _query(
        lake, "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    )
    assert not columns.filter(pl.col("column_name").str.contains("cccd|phone|full_name")).height
    marts = set(columns["table_name"])
    assert {"mart_public_service_dossiers_monthly", "mart_province_overview_daily"} <= marts
    for mart in marts:
        exported = pl.read_parquet(lake.published / f"mart={mart}" / "*.parquet")
        assert exported.height == _query(lake, f"select count(*) as n from marts.{mart}")["n"][0], mart


def test_province_overview_matches_the_monthly_mart(built):
    lake, _ = built
    daily = _query(
        lake,
        "select strftime(day, '%Y-%m') as month, sum(dossiers_received) as received, "
        "sum(dossiers_resolved_on_time) as on_time from marts.mart_province_overview_daily "
        "group by 1 order by 1",
    )
    monthly = _query(
        lake,
        "select strftime(month, '%Y-%m') as month, sum(received_count) as received, "
        "sum(resolved_on_time_count) as on_time from marts.mart_public_service_dossiers_monthly "
        "group by 1 order by 1",
    )
    assert daily.equals(monthly.filter(pl.col("month").is_in(daily["month"].implode())))
    # Overdue backlog at the last day equals the overdue backlog of the last month in the monthly mart.
    last_daily = _query(
        lake, "select dossiers_overdue_backlog from marts.mart_province_overview_daily order by day desc limit 1"
    ).item()
    last_month = _query(
        lake,
        "select sum(overdue_backlog_count) from marts.mart_public_service_dossiers_monthly "
        "where month = (select max(month) from marts.mart_public_service_dossiers_monthly)",
    ).item()
    assert last_daily == last_month > 0


def test_the_analyst_question_is_one_query(built):
    lake, _ = built
    started = time.perf_counter()
    answer = _query(lake, ANALYST_QUERY)
    elapsed = time.perf_counter() - started
    assert answer.height > 80
    assert answer.filter(pl.col("resolved") > 0)["on_time_rate"].is_between(0, 1).all()
    assert answer.filter(pl.col("resolved") == 0)["on_time_rate"].is_null().all()
    assert set(answer["commune_code"]) <= set(
        _query(lake, "select commune_code from conformed.dim_administrative_unit where is_thai_nguyen")["commune_code"]
    )
    assert elapsed < 5


def test_second_citizens_extract_changing_a_commune_keeps_scd2_history(built):
    lake, instance = built
    silver = pl.read_delta(str(lake.silver("citizens"))).sort("cccd")
    mover = silver.filter(pl.col("commune_code") != "05443").row(0, named=True)
    land_registry_update(lake, mover, "citizens_registry_update.xlsx", pl.lit("05443").alias("commune_code"))

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TN_LAKE_DIR", str(lake.root))
        assert run_refresh(instance).success

    history = _query(
        lake,
        "select current_commune_code, valid_from, valid_to from history.snap_citizen "
        "where cccd = ? order by valid_from",
        mover["cccd"],
    )
    assert history.height == 2
    before, after = history.row(0, named=True), history.row(1, named=True)
    assert before["current_commune_code"] == current_commune(mover["commune_code"])
    assert after["current_commune_code"] == "05443"
    assert before["valid_to"] == after["valid_from"] and after["valid_to"] is None
    assert (
        _query(lake, "select current_commune_code from conformed.dim_citizen where cccd = ?", mover["cccd"]).item()
        == "05443"
    )
    versions = _query(lake, "select count(*) as n, count(distinct cccd) as citizens from history.snap_citizen")
    assert versions["n"][0] == versions["citizens"][0] + 1  # nobody else got a new version

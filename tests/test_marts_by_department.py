"""Marts and conformed dims over the departmental sources (feedback, health, education, environment, enterprises,
social insurance, agriculture, tourism, unit register): the real dbt project over silver tables built by hand with
figures known in advance."""

from datetime import date

import duckdb
import polars as pl
import pytest

from ingestion.lake import Lake
from tests.expected_marts import current_commune
from tests.handmade_silver import DUC_XUAN, PHAN_DINH_PHUNG, QUAN_TRIEU, dbt, write_silver
from tests.pipeline_run import refreshed_lake


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("departments")
    with refreshed_lake(root) as (lake, _, result):
        assert result.success  # every source through the real pipeline; dossiers, citizens kept
        registry = sorted(pl.read_delta(str(lake.silver("citizens")))["cccd"].to_list())
        write_silver(lake, registry)  # hand-made figures replace the generated departmental silver tables
        dbt(lake, root / "dbt_target", "build")
        yield lake, registry


def _query(lake: Lake, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def test_feedback_handling_figures(built):
    lake, _ = built
    rows = {
        (r["category"], r["commune_code"]): r
        for r in _query(lake, "select * from marts.mart_feedback_handling_monthly").iter_rows(named=True)
    }
    env = rows[("Môi trường", PHAN_DINH_PHUNG)]
    assert env["month"] == date(2026, 10, 1)
    assert (env["received_count"], env["resolved_count"], env["rejected_count"], env["open_count"]) == (5, 3, 1, 1)
    assert env["median_resolution_hours"] == pytest.approx(24.0)  # 24 h, 72 h, 12 h
    assert env["sla_breach_count"] == 2  # R2 resolved late, R4 still open past due; R5 rejected is no breach
    assert env["resolved_within_sla_rate"] == pytest.approx(2 / 3)
    # Reported with Bắc Kạn's pre-2025 code 01834: lands on Phường Đức Xuân.
    assert rows[("Giao thông", DUC_XUAN)]["median_resolution_hours"] == pytest.approx(48.0)


def test_environment_exceedances_against_qcvn_limits(built):
    lake, _ = built
    rows = {
        (r["station_code"], r["parameter"], r["day"]): r
        for r in _query(lake, "select * from marts.mart_environment_exceedances").iter_rows(named=True)
    }
    pm25_day1, pm25_day2 = rows[("KK01", "PM2.5", date(2026, 10, 1))], rows[("KK01", "PM2.5", date(2026, 10, 2))]
    assert pm25_day1["mean_value"] == pytest.approx(60) and pm25_day1["limit_24h"] == 50
    assert pm25_day1["exceeds_24h_limit"] and not pm25_day2["exceeds_24h_limit"]
    no2 = rows[("KK01", "NO2", date(2026, 10, 1))]  # unit written 'ug/m3': same unit as the limit's µg/m³
    assert not no2["unit_mismatch"] and no2["hours_over_1h_limit"] == 1 and not no2["exceeds_24h_limit"]
    ph = rows[("NM01", "pH", date(2026, 10, 1))]
    assert ph["readings_out_of_range"] == 1 and ph["is_exceedance"] and ph["commune_code"] == DUC_XUAN
    overview = _query(
        lake,
        "select day, environment_exceedances, feedback_received, active_enterprises "
        "from marts.mart_province_overview_daily where day in ('2026-10-01', '2026-10-02') "
        "order by day",
    )
    assert overview["environment_exceedances"].to_list() == [3, 0]
    assert overview["feedback_received"].to_list() == [1, 1]
    assert overview["active_enterprises"].to_list() == [3, 3]


def test_health_and_education_per_commune(built):
    lake, _ = built
    rows = {
        r["commune_code"]: r
        for r in _query(lake, "select * from marts.mart_commune_health_education").iter_rows(named=True)
    }
    assert len(rows) == 92
    phan = rows[PHAN_DINH_PHUNG]
    assert (phan["health_facility_count"], phan["commune_health_station_count"], phan["hospital_beds"]) == (2, 1, 505)
    assert (phan["visits_last_365d"], phan["patients_last_365d"]) == (3, 2)
    assert phan["insured_visit_share"] == pytest.approx(2 / 3)
    assert (phan["school_count"], phan["primary_school_count"], phan["lower_secondary_school_count"]) == (2, 1, 1)
    assert (phan["school_year"], phan["students_enrolled"], phan["students_per_school"]) == ("2025-2026", 4, 2.0)
    duc_xuan = rows[DUC_XUAN]  # facility and school reported with the old Bắc Kạn code
    assert (duc_xuan["hospital_beds"], duc_xuan["visits_last_365d"], duc_xuan["preschool_count"]) == (3, 1, 1)
    population = _query(
        lake,
        f"select count(*) as n from conformed.dim_citizen where in_population_registry "
        f"and current_commune_code = '{PHAN_DINH_PHUNG}'",
    )["n"][0]
    assert phan["registered_population"] == population


def test_enterprise_tax_codes_are_validated_not_dropped(built):
    lake, _ = built
    rows = {r["tax_code"]: r for r in _query(lake, "select * from conformed.dim_enterprise").iter_rows(named=True)}
    assert len(rows) == 4
    assert rows["0100109106"]["is_tax_code_valid"]  # a real MST (Viettel)
    assert rows["4600100010"]["is_tax_code_valid"] and rows["4600100010-001"]["is_tax_code_valid"]
    assert rows["4600100010-001"]["parent_tax_code"] == "4600100010" and rows["4600100010-001"]["is_branch"]
    assert not rows["4600100012"]["is_tax_code_valid"]  # wrong check digit: kept, flagged
    assert rows["4600100010"]["current_commune_code"] == DUC_XUAN


def test_survivorship_across_departments_and_conflicts(built):
    lake, registry = built
    citizens = {r["cccd"]: r for r in _query(lake, "select * from conformed.dim_citizen").iter_rows(named=True)}
    # Not in the registry: social insurance fills the commune; a commune health station visit fills another.
    assert (citizens["019300000001"]["current_commune_code"], citizens["019300000001"]["commune_source"]) == (
        QUAN_TRIEU,
        "social_insurance",
    )
    assert (citizens["019300000003"]["current_commune_code"], citizens["019300000003"]["commune_source"]) == (
        PHAN_DINH_PHUNG,
        "health_visits",
    )
    # In the registry and in social insurance with another commune: the registry wins, the conflict is reported.
    insured = citizens[registry[0]]
    assert insured["commune_source"] == "population_registry"
    registry_commune = current_commune(
        pl.read_delta(str(lake.silver("citizens"))).filter(pl.col("cccd") == registry[0])["commune_code"][0]
    )
    assert insured["current_commune_code"] == registry_commune
    conflicts = _query(
        lake, f"select * from conformed.dim_citizen_conflicts where cccd = '{registry[0]}' and attribute = 'commune'"
    )
    if registry_commune != QUAN_TRIEU:
        assert conflicts.height == 1
        assert f"social_insurance: {QUAN_TRIEU}" in conflicts["values_by_source"][0]
        assert conflicts["survivor_value"][0] == registry_commune


def test_every_source_with_a_commune_resolves_it(built):
    lake, _ = built
    crops = _query(lake, "select commune_code, current_commune_code from intermediate.int_agriculture_crops")
    assert dict(crops.iter_rows()) == {"05503": "05503", "01834": DUC_XUAN}
    register = _query(lake, "select commune_code, commune_code_resolution from intermediate.int_admin_units")
    assert dict(register.iter_rows()) == {PHAN_DINH_PHUNG: "current", "01834": "mapped"}


def test_docs_generate_works_offline(built, tmp_path):
    lake, _ = built
    dbt(lake, tmp_path / "docs", "docs", "generate")
    catalog = (tmp_path / "docs" / "catalog.json").read_text(encoding="utf-8")
    assert "mart_feedback_handling_monthly" in catalog and "dim_citizen_history" in catalog
    assert (tmp_path / "docs" / "index.html").exists()

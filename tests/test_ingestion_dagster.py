"""The generated Dagster side of ingestion: checks per source, the landing sensor, daily dossier partitions."""

import shutil
from pathlib import Path

import polars as pl
from dagster import AssetKey, DagsterInstance, SkipReason, build_sensor_context, materialize

from ingestion.ingestion_log import read_log
from orchestration.ingestion_assets import CATALOG, ingestion_assets
from orchestration.resources import LakeResource
from orchestration.sensors import landing_zone_sensor

LAKE = {"lake_resource": LakeResource.from_env()}  # TN_LAKE_DIR read when the tick or sensor runs

FIXTURES = Path(__file__).parent / "fixtures"


def land(lake, source_name: str, *fixtures: str) -> None:
    folder = lake.landing / CATALOG[source_name].pattern.split("/")[0]
    folder.mkdir(parents=True, exist_ok=True)
    for name in fixtures:
        shutil.copy(FIXTURES / name, folder / name)


def _assets(*names: str):
    keys = {AssetKey([layer, n]) for n in names for layer in ("bronze", "silver")}
    return [a for a in ingestion_assets if a.key in keys]


def _checks(result) -> dict[str, object]:
    return {e.asset_check_key.to_user_string(): e for e in result.get_asset_check_evaluations()}


def test_checks_fail_for_the_broken_source_only_and_name_the_column(lake, instance):
    land(lake, "dossiers", "dossiers_2026-10-30.csv", "dossiers_2026-11-01_missing_commune.csv")
    land(lake, "health_facilities", "health_facilities_cp1258.csv", "health_facilities_type_change.csv")
    land(lake, "feedback", "feedback.json", "feedback_truncated.json")
    result = materialize(
        _assets("dossiers", "health_facilities", "feedback"), instance=instance, resources=LAKE, raise_on_error=False
    )
    assert result.success  # broken files are quarantined, not crashes; the blocking reconciliations pass
    checks = _checks(result)
    for name in ("dossiers", "health_facilities", "feedback"):
        assert checks[f"bronze/{name}:landed_rows_reconcile"].passed
        assert checks[f"silver/{name}:silver_rows_reconcile"].passed
    missing = checks["bronze/dossiers:contract_columns"]
    assert not missing.passed and missing.severity.value == "ERROR"
    assert "missing required column(s) 'Mã xã' (commune_code)" in missing.description
    drift = checks["silver/health_facilities:column_types"]
    assert not drift.passed and "health_facilities.beds ('Số giường bệnh'): type change" in drift.description
    unreadable = checks["bronze/feedback:contract_columns"]
    assert not unreadable.passed and unreadable.severity.value == "WARN"
    assert "feedback_truncated.json: cannot be read as json" in unreadable.description
    assert checks["silver/feedback:column_types"].passed
    silver_rows = {
        e.asset_key.path[1]: e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "silver"
    }
    assert silver_rows == {"dossiers": 2, "health_facilities": 2, "feedback": 2}


def test_new_column_is_reported_in_check_metadata(lake, instance):
    land(lake, "dossiers", "dossiers_2026-10-30.csv", "dossiers_2026-10-31_new_column.csv")
    result = materialize(_assets("dossiers"), instance=instance, resources=LAKE)
    check = _checks(result)["bronze/dossiers:contract_columns"]
    assert (
        check.passed
        and "schema evolution: dossiers_2026-10-31_new_column.csv: new column(s) ghi_chu" in check.description
    )
    assert check.metadata["new_columns"].value == {"dossiers_2026-10-31_new_column.csv": ["ghi_chu"]}


def test_dossier_partition_backfill_loads_only_that_day(lake, instance):
    land(lake, "dossiers", "dossiers_2026-10-30.csv", "dossiers_2026-10-31_new_column.csv")
    bronze = [a for a in _assets("dossiers") if a.key == AssetKey(["bronze", "dossiers"])]
    result = materialize(bronze, instance=instance, resources=LAKE, partition_key="2026-10-31")
    assert result.success
    loaded = pl.read_delta(str(lake.bronze("dossiers")))
    assert set(loaded["_source_file"]) == {"dossiers_2026-10-31_new_column.csv"}
    # an unpartitioned run (the refresh job, the sensor) takes every new file and marks each day it loaded
    result = materialize(_assets("dossiers"), instance=instance, resources=LAKE)
    assert set(pl.read_delta(str(lake.bronze("dossiers")))["_source_file"]) == {
        "dossiers_2026-10-30.csv",
        "dossiers_2026-10-31_new_column.csv",
    }
    partitions = {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key == AssetKey(["bronze", "dossiers"])
    }
    assert "2026-10-30" in partitions
    materialized = instance.get_materialized_partitions(AssetKey(["bronze", "dossiers"]))
    assert {"2026-10-30", "2026-10-31"} <= materialized
    assert read_log(lake.ingestion_log, "dossiers", "bronze").height == 2


def test_landing_sensor_requests_a_run_for_sources_with_new_files(lake):
    land(lake, "dossiers", "dossiers_2026-10-30.csv")
    land(lake, "enterprises", "enterprises.ndjson")
    with DagsterInstance.ephemeral() as instance:
        first = landing_zone_sensor(build_sensor_context(instance=instance, resources=LAKE))
        assert len(first.run_requests) == 1
        assert set(first.run_requests[0].asset_selection) == {
            AssetKey(["bronze", "dossiers"]),
            AssetKey(["silver", "dossiers"]),
            AssetKey(["bronze", "enterprises"]),
            AssetKey(["silver", "enterprises"]),
        }
        quiet = landing_zone_sensor(build_sensor_context(instance=instance, resources=LAKE, cursor=first.cursor))
        assert isinstance(quiet, SkipReason)
        land(lake, "enterprises", "enterprises_update.ndjson")
        second = landing_zone_sensor(build_sensor_context(instance=instance, resources=LAKE, cursor=first.cursor))
        assert set(second.run_requests[0].asset_selection) == {
            AssetKey(["bronze", "enterprises"]),
            AssetKey(["silver", "enterprises"]),
        }
        assert second.run_requests[0].run_key != first.run_requests[0].run_key

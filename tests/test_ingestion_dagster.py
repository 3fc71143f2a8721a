"""The generated Dagster side of ingestion: checks per source, the change detector behind the landing sensor, daily
dossier partitions."""

import os
import shutil
from pathlib import Path

import polars as pl
from dagster import AssetKey, AssetSelection, RunRequest, build_sensor_context, materialize

from ingestion.ingestion_log import read_log
from ingestion.landing_changes import changed_sources
from orchestration.definitions import defs
from orchestration.ingestion_assets import CATALOG, ingestion_assets
from orchestration.resources import LakeResource
from orchestration.sensors import landing_zone_sensor

LAKE = {"lake_resource": LakeResource.from_env()}  # TN_LAKE_DIR read when the tick or sensor runs

FIXTURES = Path(__file__).parent / "fixtures"
REPOSITORY = defs.get_repository_def()


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


def test_change_detector_sees_new_files_and_unapplied_bronze(lake, instance):
    """The one change detector's lake side (the schedule, the sensor, run_pipeline and the bench use it): landing
    files not ingested yet, or bronze files silver has not applied; a touched file with known content is not new."""
    land(lake, "dossiers", "dossiers_2026-10-30.csv")
    land(lake, "enterprises", "enterprises.ndjson")
    first = changed_sources(lake)
    assert {name: sorted(c.new_files) for name, c in first.items()} == {
        "dossiers": ["dossiers/dossiers_2026-10-30.csv"],
        "enterprises": ["enterprises/enterprises.ndjson"],
    }
    # On a fresh instance nothing is built yet: the sensor asks for the whole job
    sensed = landing_zone_sensor(build_sensor_context(instance=instance, resources=LAKE, repository_def=REPOSITORY))
    assert isinstance(sensed, RunRequest) and sensed.tags["warehouse/whole"] == "True"
    assert set(sensed.asset_selection) == AssetSelection.all().resolve(REPOSITORY.asset_graph)

    materialize(_assets("dossiers", "enterprises"), instance=instance, resources=LAKE)
    assert changed_sources(lake) == {}
    touched = lake.landing / "enterprises" / "enterprises.ndjson"
    os.utime(touched, (touched.stat().st_atime, touched.stat().st_mtime + 60))
    assert changed_sources(lake) == {}

    land(lake, "enterprises", "enterprises_update.ndjson")
    bronze_only = [a for a in _assets("enterprises") if a.key == AssetKey(["bronze", "enterprises"])]
    materialize(bronze_only, instance=instance, resources=LAKE)
    (change,) = changed_sources(lake).values()
    assert change.source == "enterprises" and not change.new_files and len(change.unapplied) == 1
    assert "silver has not applied" in change.reason

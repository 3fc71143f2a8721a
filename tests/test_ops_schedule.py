"""The nightly schedule and the landing sensor refresh only sources that landed files (and what is downstream of them),
deciding with the one change detector that run_pipeline and the bench use too; silver freshness policies follow
each source's SLA, and the instance template loads as configured.
(One DuckDB writer at a time, for real: tests/test_ops_concurrency.py.)"""

import os
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import yaml
from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from ingestion import build_state
from ingestion.catalog import load_catalog
from orchestration import run_pipeline
from orchestration.change_detection import plan_refresh
from orchestration.definitions import defs
from orchestration.instance import instance_template, prepare_dagster_home
from orchestration.resources import WAREHOUSE_POOL, LakeResource
from orchestration.schedules import NIGHTLY_CRON, TIMEZONE, nightly_warehouse_refresh
from orchestration.sensors import landing_zone_sensor
from tests.pipeline_run import land_registry_update, sample_lake_in

LAKE = {"lake_resource": LakeResource.from_env()}  # TN_LAKE_DIR read when the tick or sensor runs

TICK = datetime(2026, 11, 28, 1, 0, tzinfo=ZoneInfo(TIMEZONE))
STARTED = DagsterRunStatus.STARTED


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    """A persistent instance + sample lake; evaluate the tick, run what it asks for, evaluate again."""
    root = tmp_path_factory.mktemp("schedule")
    with sample_lake_in(root) as lake:
        (root / "dagster_home").mkdir()
        with DagsterInstance.local_temp(str(root / "dagster_home")) as instance:

            def tick():
                context = build_schedule_context(
                    instance=instance,
                    scheduled_execution_time=TICK,
                    resources=LAKE,
                    repository_def=defs.get_repository_def(),
                )
                return nightly_warehouse_refresh(context)

            def sense():
                context = build_sensor_context(
                    instance=instance, resources=LAKE, repository_def=defs.get_repository_def()
                )
                return landing_zone_sensor(context)

            tick.sense = sense
            first = tick()
            job = defs.resolve_job_def("warehouse_refresh")
            result = job.execute_in_process(
                instance=instance, asset_selection=first.asset_selection, tags=first.tags, raise_on_error=False
            )
            yield lake, instance, tick, first, result


def test_schedule_is_nightly_at_1am_vietnam_time():
    schedule = nightly_warehouse_refresh
    assert schedule.cron_schedule == NIGHTLY_CRON == "0 1 * * *"
    assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    assert schedule.job_name == "warehouse_refresh"
    assert schedule.default_status.value == "RUNNING"


def test_first_tick_refreshes_every_source_and_everything_downstream(scheduled):
    _, _, _, first, result = scheduled
    assert isinstance(first, RunRequest)
    keys = {k.to_user_string() for k in first.asset_selection}
    for source in load_catalog():
        assert {f"bronze/{source}", f"silver/{source}"} <= keys
    assert {"marts/mart_dossier_on_time_by_agency_month", "published/mart_dossier_on_time_by_agency_month"} <= keys
    assert first.run_key == "nightly-2026-11-28"
    assert result.success


def test_quiet_night_skips_with_a_reason(scheduled, monkeypatch, capsys):
    lake, instance, tick, _, _ = scheduled
    started = time.perf_counter()
    outcome = tick()
    scheduled_seconds = time.perf_counter() - started
    assert isinstance(outcome, SkipReason)
    assert "No source landed new extracts" in outcome.skip_message
    started = time.perf_counter()
    sensed = tick.sense()
    sensed_seconds = time.perf_counter() - started
    assert isinstance(sensed, SkipReason) and "no new files" in sensed.skip_message
    assert scheduled_seconds < 5 and sensed_seconds < 5, (scheduled_seconds, sensed_seconds)
    # run_pipeline asks the same detector, and starts no run either
    runs = len(instance.get_run_records())
    monkeypatch.setenv("DAGSTER_HOME", instance.root_directory)
    monkeypatch.setattr("sys.argv", ["run_pipeline"])
    assert run_pipeline.main() == 0
    assert "nothing to refresh" in capsys.readouterr().out
    assert len(instance.get_run_records()) == runs


def test_the_refresh_leaves_readable_build_state(scheduled):
    lake, _, _, _, _ = scheduled
    builds = build_state.read_all(lake)
    for source in load_catalog():
        silver = builds[f"silver.{source}"]
        assert silver.watermark == "0" and silver.whole_build_at is not None  # created once, appended since
        assert '"version"' in silver.built_from
    for table in ("records.citizens", "records.dossiers"):
        shared = builds[f"shared.{table}"]
        assert shared.fingerprint and shared.watermark and shared.built_at == shared.whole_build_at
        source = "conformed.dim_citizen" if table.endswith("citizens") else "intermediate.int_dossiers"
        assert f"warehouse.{source}" in shared.built_from


def test_new_extract_refreshes_only_its_source_and_downstream(scheduled):
    lake, instance, tick, _, _ = scheduled
    late = lake.landing / "citizens" / "citizens_late_delivery.xlsx"
    citizen = pl.read_delta(str(lake.silver("citizens"))).row(0, named=True)
    land_registry_update(lake, citizen, late.name, pl.lit("05443").alias("commune_code"))
    try:
        request, sensed = tick(), tick.sense()
        planned = plan_refresh(instance, defs.resolve_asset_graph(), lake)  # what run_pipeline and the bench run
        # Live mode coalesces: while a refresh is running, the sensor waits; the next run takes what landed meanwhile.
        instance.add_run(DagsterRun(job_name="warehouse_refresh", run_id="a-running-refresh", status=STARTED))
        waiting = tick.sense()
        instance.delete_run("a-running-refresh")
    finally:
        late.unlink()
    assert isinstance(request, RunRequest) and isinstance(sensed, RunRequest)
    keys = {k.to_user_string() for k in request.asset_selection}
    assert {"bronze/citizens", "silver/citizens", "staging/stg_citizens", "shared/shared_marts"} <= keys
    assert not keys & {"bronze/dossiers", "silver/dossiers", "staging/stg_dossiers"}
    assert request.tags["warehouse/changed_sources"] == "citizens"
    assert list(request.asset_selection) == list(sensed.asset_selection) == list(planned.keys)
    assert sensed.job_name in (None, "warehouse_refresh") and sensed.run_key.startswith("landed-")
    assert isinstance(waiting, SkipReason) and "a-running-refresh" in waiting.skip_message


def test_a_touched_file_is_not_new(scheduled):
    lake, _, tick, _, _ = scheduled
    landed = sorted(lake.landing.glob("dossiers/*"))[0]
    os.utime(landed)  # modified after it was ingested, same content: the hash says it is known
    assert isinstance(tick(), SkipReason)


def test_silver_freshness_policies_follow_each_source_sla():
    """Freshness is a FreshnessPolicy on each silver asset (its contract's `freshness_hours`), and nowhere else."""
    graph = defs.resolve_asset_graph()
    policies = {
        key.to_user_string(): graph.get(key).freshness_policy
        for key in graph.get_all_asset_keys()
        if graph.get(key).freshness_policy is not None
    }
    sla = {f"silver/{name}": source.freshness_hours for name, source in load_catalog().items()}
    assert {key: policy.fail_window.to_timedelta() for key, policy in policies.items()} == {
        key: timedelta(hours=hours) for key, hours in sla.items()
    }


def test_refresh_job_carries_retry_policy():
    job = defs.resolve_job_def("warehouse_refresh")
    policy = job.op_retry_policy
    assert policy is not None and policy.max_retries >= 1 and policy.delay > 0


@pytest.mark.parametrize("pg_url", ["", "postgresql://dagster:secret@db.internal:5432/dagster"])
def test_instance_template_gives_the_warehouse_pool_one_slot(tmp_path, pg_url):
    environ = {"DAGSTER_HOME": str(tmp_path / "home"), **({"TN_DAGSTER_PG_URL": pg_url} if pg_url else {})}
    home = prepare_dagster_home(environ)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert (home / "dagster.yaml").read_bytes() == instance_template(environ).read_bytes()
    assert ("storage" in config) == bool(pg_url)
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    if not pg_url:  # the embedded instance loads as configured
        old = os.environ.get("DAGSTER_HOME")
        with DagsterInstance.from_config(str(home)) as instance:
            pools = instance.get_concurrency_config().pool_config
            assert (pools.default_pool_limit, pools.pool_granularity.value) == (1, "op")
            assert instance.event_log_storage.supports_global_concurrency_limits  # SQLite storage enforces pools
            assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).limit == 1
            assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert os.environ.get("DAGSTER_HOME") == old

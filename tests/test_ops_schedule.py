"""The nightly schedule refreshes only sources that landed files (and what is downstream of them), silver freshness
policies follow each source's SLA, and the instance template loads as configured.
(One DuckDB writer at a time, for real: tests/test_ops_concurrency.py.)"""

import os
import shutil
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from dagster import (
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_schedule_context,
)

from ingestion.catalog import load_catalog
from orchestration.definitions import defs
from orchestration.instance import instance_template, prepare_dagster_home
from orchestration.resources import WAREHOUSE_POOL, LakeResource
from orchestration.schedules import NIGHTLY_CRON, TIMEZONE, nightly_warehouse_refresh
from tests.pipeline_run import sample_lake_in

LAKE = {"lake_resource": LakeResource.from_env()}  # TN_LAKE_DIR read when the tick or sensor runs

TICK = datetime(2026, 11, 28, 1, 0, tzinfo=ZoneInfo(TIMEZONE))


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


def test_quiet_night_skips_with_a_reason(scheduled):
    _, _, tick, _, _ = scheduled
    outcome = tick()
    assert isinstance(outcome, SkipReason)
    assert "No source landed new extracts" in outcome.skip_message


def test_new_extract_refreshes_only_its_source_and_downstream(scheduled):
    lake, _, tick, _, _ = scheduled
    landed = sorted(lake.landing.glob("citizens/*"))[0]
    time.sleep(0.01)
    shutil.copyfile(landed, landed.with_name("citizens_late_delivery" + landed.suffix))
    try:
        request = tick()
    finally:
        landed.with_name("citizens_late_delivery" + landed.suffix).unlink()
    assert isinstance(request, RunRequest)
    keys = {k.to_user_string() for k in request.asset_selection}
    assert {"bronze/citizens", "silver/citizens", "staging/stg_citizens"} <= keys
    assert not keys & {"bronze/dossiers", "silver/dossiers", "staging/stg_dossiers"}
    assert request.tags["warehouse/changed_sources"] == "citizens"


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

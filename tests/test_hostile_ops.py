"""Hostile conditions around ingestion (issue 22): checks that say the same on every run, a warehouse held by an
analyst, a run killed with kill -9, and analysts' queries that run away or fail while fetching. The lock, kill and
query cases go through the real command lines, in a temporary lake and DAGSTER_HOME."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter, materialize

from ingestion.lake import PROJECT_ROOT
from orchestration.ingestion_assets import ingestion_assets
from orchestration.instance import prepare_dagster_home
from orchestration.orphaned_runs import PID_TAG, fail_dead_local_runs, free_orphaned_slots
from orchestration.resources import LakeResource

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
LAKE = {"lake_resource": LakeResource.from_env()}
HOLD = "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); sys.stdin.read()"


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TN_LAKE_DIR": str(tmp_path / "lake"), "DAGSTER_HOME": str(tmp_path / "dagster_home")}


def test_contract_columns_reports_the_same_state_on_every_run(lake, instance):
    folder = lake.landing / "dossiers"
    folder.mkdir(parents=True)
    for name in ("dossiers_2026-10-26_empty.csv", "dossiers_2026-10-29.csv"):
        shutil.copy(HOSTILE / name, folder / name)
    keys = {AssetKey(["bronze", "dossiers"]), AssetKey(["silver", "dossiers"])}
    assets = [a for a in ingestion_assets if a.key in keys]

    def contract_check():
        result = materialize(assets, instance=instance, resources=LAKE)
        checks = {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key.path[0] == "bronze"}
        assert checks["landed_rows_reconcile"].passed
        return checks["contract_columns"]

    first, second = contract_check(), contract_check()
    assert not first.passed and first.severity.value == "WARN"
    assert (second.passed, second.severity, second.description) == (first.passed, first.severity, first.description)
    assert "dossiers_2026-10-26_empty.csv: cannot be read as csv: the file is empty (0 bytes)" in first.description
    (folder / "dossiers_2026-10-26_empty.csv").unlink()  # taken out of landing: the state is clean again
    assert contract_check().passed


def test_keys_repeated_within_a_file_are_listed_by_the_silver_check_without_their_values(lake, instance):
    folder = lake.landing / "dossiers"
    folder.mkdir(parents=True)
    shutil.copy(HOSTILE / "dossiers_2026-10-30_duplicate_keys.csv", folder)
    keys = {AssetKey(["bronze", "dossiers"]), AssetKey(["silver", "dossiers"])}
    result = materialize([a for a in ingestion_assets if a.key in keys], instance=instance, resources=LAKE)
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "silver_rows_reconcile"]
    assert check.passed and "keys repeated within a file (quarantine)" in check.description
    assert check.metadata["duplicate_keys"].value == [
        "dossiers_2026-10-30_duplicate_keys.csv: key dossier_id repeated on lines 2, 4"
    ]


def test_a_held_warehouse_leaves_the_run_report_readable_and_exits_1(tmp_path):
    warehouse = tmp_path / "lake" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline().strip() == b"holding"
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.run_pipeline", "--scale", "tiny"],
            cwd=PROJECT_ROOT,
            env=_cli_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout and "IOException" not in done.stderr.strip().splitlines()[-1]
    report = done.stdout.split("\ntable")[1]
    assert "bronze/dossiers" in report and "silver/dossiers" in report and "warehouse.duckdb marts" not in report
    assert f"warehouse tables not listed: The warehouse file {warehouse} is locked by process {holder.pid}" in report


def test_a_local_run_killed_with_kill_9_is_marked_failed(tmp_path):
    home = tmp_path / "dagster_home"
    # The instance's SQLite storage is created before the run, as in a deployment: creating it from two processes
    # at once can stamp two alembic heads.
    prepare_dagster_home({"DAGSTER_HOME": str(home)})
    DagsterInstance.from_config(str(home)).dispose()
    runner = subprocess.Popen(
        [sys.executable, "-m", "orchestration.run_pipeline", "--scale", "tiny"],
        cwd=PROJECT_ROOT,
        env=_cli_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = RunsFilter(statuses=[DagsterRunStatus.STARTED], tags={PID_TAG: str(runner.pid)})
    try:
        deadline, runs = time.monotonic() + 600, []
        while not runs and time.monotonic() < deadline and runner.poll() is None:
            time.sleep(0.5)
            with DagsterInstance.from_config(str(home)) as instance:
                runs = instance.get_runs(filters=started)
    finally:
        runner.kill()  # SIGKILL: no handler runs, the run stays STARTED
        runner.wait()
    [run] = runs
    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED
        assert free_orphaned_slots(instance) == []  # killed before any warehouse step: it held no pool slot
        assert fail_dead_local_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        assert fail_dead_local_runs(instance) == []


def _shared_file(tmp_path: Path) -> None:
    (tmp_path / "lake").mkdir()
    with duckdb.connect(str(tmp_path / "lake" / "shared_marts.duckdb")) as con:
        con.execute("create table counts as select 1 as n")


def _query(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sharing.query", *args],
        cwd=PROJECT_ROOT,
        env=_cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_runaway_query_is_stopped_at_its_timeout(tmp_path):
    _shared_file(tmp_path)
    began = time.monotonic()
    done = _query(tmp_path, "--timeout", "1", "select count(*) from range(100000000) a, range(100000000) b")
    assert (done.returncode, done.stderr) == (2, "error: the query was stopped after 1 s (--timeout)\n")
    assert time.monotonic() - began < 60
    assert _query(tmp_path, "select n from counts").returncode == 0


def test_an_error_raised_while_fetching_is_an_error_line_not_a_traceback(tmp_path):
    _shared_file(tmp_path)
    for args in (["select error('boom')"], ["--csv", "select error('boom')"]):
        done = _query(tmp_path, *args)
        assert (done.returncode, done.stderr) == (2, "error: Invalid Input Error: boom\n"), args

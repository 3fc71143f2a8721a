"""One process at a time opens lake/warehouse.duckdb, for real: two runs that both write it, in separate processes
against one Dagster instance made from the project's template (the second started while the first is writing),
both succeed, and the second one's writer step starts only after the first one's has ended: it waited for the
slot of the pool `warehouse_duckdb`, and said so in its event log."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import yaml
from dagster import AssetKey, AssetSelection, DagsterEventType, DagsterInstance, DagsterRunStatus

from ingestion.lake import PROJECT_ROOT
from orchestration.definitions import defs
from orchestration.instance import instance_template, prepare_dagster_home
from orchestration.publish_assets import mart_keys
from orchestration.resources import WAREHOUSE_POOL
from tests.pipeline_run import sample_lake_in

# One small corner of the warehouse is enough: the dbt step holds the file for writing while `dbt build` runs.
# The admin-units staging model with what it reads (seeds, the commune code map) and the silver table under it.
_UPSTREAM = (
    AssetSelection.assets(AssetKey(["staging", "stg_admin_units"])).upstream().resolve(defs.resolve_asset_graph())
)
INGEST_SELECTION = sorted(k for k in _UPSTREAM if k.path[0] in ("bronze", "silver"))
WRITER_SELECTION = sorted(k.to_user_string() for k in _UPSTREAM if k not in INGEST_SELECTION)


# Every step that opens warehouse.duckdb: dbt and the scorecard write it; the mart publishers, the mart's GX gate
# the shared-marts build (with its PII scan), the open-data export's PII scan and the leaders' page read it (a
# read-only open is refused too while another process writes).
WAREHOUSE_STEPS = {
    "silver_views",
    "warehouse_dbt_assets",
    "quality__scorecard",
    "quality__leaders_page",
    "marts__mart_dossier_on_time_by_agency_month_gx_mart_suite",
    "shared__shared_marts",
    "open_data__catalog",
    *(f"published__{key.path[-1]}" for key in mart_keys()),
}


def pool_steps(job_name: str = "warehouse_refresh") -> set[str]:
    job = defs.resolve_job_def(job_name)
    return {node.name for node in job.graph.node_defs if getattr(node, "pool", None) == WAREHOUSE_POOL}


@contextmanager
def _ingested(root):
    """(environment of a run process, instance, ingest result): an instance in `root` made from the embedded
    template (as `make ui` writes it), the tiny sample landed, and the silver tables under the writer steps built."""
    environ = {k: v for k, v in os.environ.items() if k != "TN_DAGSTER_PG_URL"}
    environ |= {"DAGSTER_HOME": str(root / "dagster_home"), "TN_LAKE_DIR": str(root / "lake")}
    home = prepare_dagster_home(environ)
    with sample_lake_in(root), DagsterInstance.from_config(str(home)) as instance:
        ingest = defs.resolve_job_def("warehouse_refresh").execute_in_process(
            instance=instance, asset_selection=INGEST_SELECTION, raise_on_error=False
        )
        assert ingest.success
        yield environ, instance, ingest


@pytest.fixture(scope="module")
def two_writers(tmp_path_factory):
    """Start two warehouse-writing runs at once; (instance, [(run id, exit code, output)])."""
    with _ingested(tmp_path_factory.mktemp("concurrency")) as (environ, instance, ingest):

        def ready():
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.warehouse_writer_run", "--on-go", *WRITER_SELECTION],
                cwd=PROJECT_ROOT,
                env=environ,
                text=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            before = []  # what loading printed first (warnings, with stderr merged into stdout)
            while (line := process.stdout.readline()) and line.strip() != "ready":
                before.append(line)
            assert line.strip() == "ready", "".join(before)
            return process

        def go(process):
            process.stdin.write("go\n")
            process.stdin.flush()

        # The second run starts while the first one is at its writer step (it holds the slot or, without a
        # pool, is opening the file): a UI click during the nightly refresh. Both processes have loaded the code
        # location beforehand, so the second run reaches its writer step at once. Not both at the same
        # millisecond: Dagster's slot claim is a read-then-write on SQLite and can hand one slot to two claims.
        first, second = ready(), ready()
        go(first)
        _wait_for_writer_step(instance, first, known_runs={ingest.run_id})
        go(second)
        launched = [first, second]
        finished = []
        for process in launched:
            output, _ = process.communicate(timeout=600)
            lines = output.strip().splitlines()
            finished.append((lines[-1] if lines else "", process.returncode, output))
        yield instance, finished


def _wait_for_writer_step(
    instance: DagsterInstance, process: subprocess.Popen, known_runs: set[str], timeout: float = 300
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for run in instance.get_runs():
            if run.run_id not in known_runs and any(
                entry.step_key in WAREHOUSE_STEPS
                for entry in instance.all_logs(
                    run.run_id, of_type={DagsterEventType.STEP_WORKER_STARTING, DagsterEventType.STEP_START}
                )
            ):
                return
        time.sleep(0.5)
    raise AssertionError("the first run never reached its warehouse step")


def _writer_intervals(instance: DagsterInstance, run_id: str) -> list[tuple[float, float, str]]:
    """(start, end, step) of each pool step of the run, from the event log."""
    starts, ends = {}, {}
    for entry in instance.all_logs(
        run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
    ):
        if entry.step_key in WAREHOUSE_STEPS:
            (starts if entry.dagster_event_type == DagsterEventType.STEP_START else ends)[entry.step_key] = (
                entry.timestamp
            )
    return [(starts[step], ends[step], step) for step in starts]


def test_warehouse_steps_are_in_the_warehouse_pool():
    assert pool_steps() == WAREHOUSE_STEPS


@pytest.mark.parametrize("pg_url", ["", "postgresql://dagster:secret@db.internal:5432/dagster"])
def test_instance_templates_give_the_pool_one_slot_per_step(pg_url):
    config = yaml.safe_load(instance_template({"TN_DAGSTER_PG_URL": pg_url} if pg_url else {}).read_text())
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    assert "tag_concurrency_limits" not in config["concurrency"].get("runs", {})  # one mechanism: the pool
    assert config["run_monitoring"]["free_slots_after_run_end_seconds"] > 0  # a dead run cannot keep the slot


def test_two_concurrent_writer_runs_take_turns(two_writers):
    instance, finished = two_writers
    for run_id, code, output in finished:
        assert code == 0, output[-3000:]
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    intervals = sorted(
        (start, end, step, run_id)
        for run_id, _, _ in finished
        for start, end, step in _writer_intervals(instance, run_id)
    )
    assert {run for *_, run in intervals} == {run_id for run_id, _, _ in finished}, intervals
    for (_, first_end, first_step, first_run), (second_start, _, second_step, second_run) in zip(
        intervals, intervals[1:]
    ):
        assert second_start >= first_end, (
            f"{second_step} of run {second_run} started {first_end - second_start:.1f} s before "
            f"{first_step} of run {first_run} ended: two processes had warehouse.duckdb open at once"
        )
    # and the later run knew why it waited: Dagster logged the step as blocked on the pool
    later_run = intervals[-1][3]
    messages = [
        e.dagster_event.message or "" for e in instance.all_logs(later_run, of_type=DagsterEventType.ENGINE_EVENT)
    ]
    assert f"Step blocked by limit for pool {WAREHOUSE_POOL}" in messages, messages


LOCAL_RUN = (
    "import sys; from dagster import AssetKey; from orchestration.run_pipeline import run_refresh; "
    "r = run_refresh(asset_selection=[AssetKey.from_user_string(k) for k in sys.argv[1:]]); "
    "print(r.run_id, flush=True); sys.exit(0 if r.success else 1)"
)


def test_a_killed_local_run_does_not_keep_the_slot(tmp_path):
    """`python -m orchestration.run_pipeline` runs outside the daemon: killed during its dbt step, its run would
    keep the pool's only slot and the next local run would wait forever. The next run frees it and goes on."""
    with _ingested(tmp_path) as (environ, instance, _):
        killed = subprocess.Popen(
            [sys.executable, "-c", LOCAL_RUN, *WRITER_SELECTION],
            cwd=PROJECT_ROOT,
            env=environ,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots:
            assert time.monotonic() < deadline and killed.poll() is None, "the run never took the slot"
            time.sleep(0.2)
        os.killpg(killed.pid, 9)  # the run and its dbt child, mid-step: no cleanup runs
        killed.wait()
        holder = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots[0].run_id

        again = subprocess.run(
            [sys.executable, "-c", LOCAL_RUN, *WRITER_SELECTION],
            cwd=PROJECT_ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert f"freed the warehouse pool slot of run {holder}" in again.stdout
        assert instance.get_run_by_id(holder).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(again.stdout.strip().splitlines()[-1]).status == DagsterRunStatus.SUCCESS
        assert not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots

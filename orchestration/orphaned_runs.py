"""Free the warehouse pool slot of a local run whose process died (killed, machine rebooted).

`python -m orchestration.run_pipeline` runs the job in its own process, outside the daemon's run monitoring (which
frees the slots of launched runs that ended: deploy/dagster.yaml). A local run killed mid-step would keep the pool's
only slot and every later run would wait for it forever. Local runs carry their host and process id as tags; before
a new local run, a run that still holds a slot but whose process is gone is marked failed, and its slots freed; so
is a local run killed while it held no slot (it would otherwise show as started forever).
"""

import os
import socket

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.resources import WAREHOUSE_POOL

HOST_TAG, PID_TAG = "warehouse/runner_host", "warehouse/runner_pid"
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def runner_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_orphaned_slots(instance: DagsterInstance) -> list[str]:
    """Run ids whose slots were freed: finished runs still holding one, and this host's local runs whose process
    is gone (marked failed). Runs launched elsewhere are left to the daemon's run monitoring."""
    freed = []
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    for run_id in {slot.run_id for slot in info.claimed_slots}:
        run = instance.get_run_by_id(run_id)
        orphaned = run is None or run.status in FINISHED
        if not orphaned and run.tags.get(HOST_TAG) == socket.gethostname() and run.tags.get(PID_TAG, "").isdigit():
            orphaned = not _alive(int(run.tags[PID_TAG]))
            if orphaned:
                instance.report_run_failed(run, f"{_ended(run)}; the {WAREHOUSE_POOL} pool slot it held was freed")
        if orphaned:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            freed.append(run_id)
    return freed


def _ended(run) -> str:
    return f"its process {run.tags[PID_TAG]} on {run.tags[HOST_TAG]} ended without finishing the run"


def fail_dead_local_runs(instance: DagsterInstance) -> list[str]:
    """Run ids marked failed: this host's local runs still shown unfinished whose process is gone (killed while it
    held no pool slot; `free_orphaned_slots` handles those that held one)."""
    runs = instance.get_runs(filters=RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: socket.gethostname()}))
    failed = []
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and not _alive(int(pid)):
            instance.report_run_failed(run, _ended(run))
            failed.append(run.run_id)
    return failed

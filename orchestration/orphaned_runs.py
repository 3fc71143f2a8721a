"""Free the warehouse pool slot of a local run whose process died (killed, machine rebooted).

`python -m orchestration.run_pipeline` runs the job in its own process, outside the daemon's run monitoring (which
frees the slots of launched runs that ended: deploy/dagster.yaml). A local run killed mid-step would keep the pool's
only slot and every later run would wait for it forever. Local runs carry their host and process id as tags; before
a new local run, a run that still holds a slot but whose process is gone is marked failed, and its slots freed.
"""

import os
import socket

from dagster import DagsterInstance, DagsterRunStatus

from orchestration.resources import WAREHOUSE_POOL

HOST_TAG, PID_TAG = "warehouse/runner_host", "warehouse/runner_pid"
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


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
                instance.report_run_failed(
                    run,
                    f"its process {run.tags[PID_TAG]} ended without finishing the run; "
                    f"the {WAREHOUSE_POOL} pool slot it held was freed",
                )
        if orphaned:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            freed.append(run_id)
    return freed

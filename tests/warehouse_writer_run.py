"""One run of `warehouse_refresh` for the selected assets, in its own process, the way a launched run executes:

    python -m tests.warehouse_writer_run [--on-go] staging/stg_admin_units [more asset keys]

against the instance in $DAGSTER_HOME and the lake in $TN_LAKE_DIR, with the job's own executor (the code
location's in-process executor, as in a run started from the UI or by the daemon). Prints the run id; the exit code
is 0 when the run succeeded. Used by tests/test_ops_concurrency.py to start two writers at the same time.
`--on-go`: load the code location first, print "ready", and start the run when a line arrives on stdin (loading
takes ~10 s, longer than the small run itself: the test starts the second run at a moment it chooses).
"""

import importlib
import sys

from dagster import AssetKey, DagsterInstance, execute_job
from dagster._core.definitions.reconstruct import ReconstructableRepository

from ingestion.lake import PROJECT_ROOT


def main(keys: list[str], on_go: bool) -> int:
    if on_go:
        importlib.import_module("orchestration.definitions")  # loaded now, not when the run starts
        print("ready", flush=True)
        sys.stdin.readline()
    job = ReconstructableRepository.for_module(
        "orchestration.definitions", "defs", working_directory=str(PROJECT_ROOT)
    ).get_reconstructable_job("warehouse_refresh")
    with DagsterInstance.get() as instance:
        result = execute_job(job, instance, asset_selection=[AssetKey.from_user_string(k) for k in keys])
        print(result.run_id, flush=True)
        return 0 if result.success else 1


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(main([a for a in arguments if a != "--on-go"], "--on-go" in arguments))

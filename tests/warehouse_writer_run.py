"""One run of `warehouse_refresh` for the selected assets, in its own process, the way a launched run executes:

    python -m tests.warehouse_writer_run staging/stg_admin_units [more asset keys]

against the instance in $DAGSTER_HOME and the lake in $TN_LAKE_DIR, with the job's own executor (multiprocess:
each step in a child process, as in a run started from the UI or by the daemon). Prints the run id; the exit code
is 0 when the run succeeded. Used by tests/test_ops_concurrency.py to start two writers at the same time.
"""

import sys

from dagster import AssetKey, DagsterInstance, execute_job
from dagster._core.definitions.reconstruct import ReconstructableRepository

from ingestion.lake import PROJECT_ROOT


def main(keys: list[str]) -> int:
    job = ReconstructableRepository.for_module(
        "orchestration.definitions", "defs", working_directory=str(PROJECT_ROOT)
    ).get_reconstructable_job("warehouse_refresh")
    with DagsterInstance.get() as instance:
        result = execute_job(job, instance, asset_selection=[AssetKey.from_user_string(k) for k in keys])
        print(result.run_id, flush=True)
        return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

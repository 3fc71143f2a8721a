"""Dagster resources and shared settings: where the lake is (`LakeResource`), the warehouse file's concurrency pool,
and the pre-check that the warehouse file can be written.

An analyst who keeps `lake/warehouse.duckdb` open (even read-only) holds a lock that makes dbt die deep in its
adapter with a lock error. The dbt step opens the file once for writing first and turns DuckDB's lock error into a
failure that names the file and the process holding it, and says what to do. It is not retried: the analyst has to
close their session first.
"""

import os
import re
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, EnvVar, Failure, MetadataValue
from pydantic import Field

from ingestion.lake import DEFAULT_ROOT, STORAGE_ENV, Lake

# Every step that opens lake/warehouse.duckdb (dbt, the scorecard, and the steps that read it: DuckDB's read-only
# opens also conflict with another process writing) runs in this Dagster concurrency pool. The instance templates
# (deploy/dagster*.yaml) give it one slot, claimed by the run's executor when the step starts: one process at a
# time has the file open, whichever way the run was launched (schedule, sensor, the UI's Materialize, the CLI).
WAREHOUSE_POOL = "warehouse_duckdb"
# Steps on the way to the shared file (the scorecard it copies, the file) run before ready steps nothing waits for
# (Data Docs, the leaders' page): live mode's latency is the file's, not the run's.
BEFORE_OTHER_READY_STEPS = {"dagster/priority": "1"}


class LakeResource(ConfigurableResource):
    """The lake's location and object-storage credentials. `from_env()` takes each setting from its environment
    variable through `EnvVar` (secrets show as variable names in the UI, never as values)."""

    root: str = Field(default=str(DEFAULT_ROOT), description="TN_LAKE_DIR: landing zone, DuckDB files, exports.")
    uri: str = Field(default="", description="TN_LAKE_URI: object-storage root of the Delta tables ('' = local).")
    credentials: dict[str, str] = Field(
        default_factory=dict, description="AWS_* variables for object storage, by variable name."
    )

    @classmethod
    def from_env(cls) -> "LakeResource":
        settings = {"root": "TN_LAKE_DIR", "uri": "TN_LAKE_URI"}
        return cls(
            **{field: EnvVar(var) for field, var in settings.items() if var in os.environ},
            credentials={var: EnvVar(var) for var in STORAGE_ENV if os.environ.get(var)},
        )

    def lake(self) -> Lake:
        return Lake.from_settings(self.root, self.uri, self.credentials)


_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _process_owner(pid: int) -> str | None:
    """The user running `pid` (Linux /proc), so the alert can say whose session to close."""
    try:
        uid = next(
            line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Uid:")
        )
        import pwd

        return pwd.getpwuid(int(uid)).pw_name
    except (OSError, StopIteration, KeyError, ValueError):
        return None


def warehouse_lock_error(path: Path) -> Failure | None:
    """None when `path` can be opened for writing now; else a Failure naming the file and the lock holder."""
    if not path.exists():
        return None
    try:
        duckdb.connect(str(path)).close()
        return None
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        holder = _HOLDER.search(str(error))
        pid = int(holder["pid"]) if holder else None
        who = (
            (
                f"process {pid} ({holder['program']}"
                + (f", user {owner}" if pid and (owner := _process_owner(pid)) else "")
                + ")"
            )
            if holder
            else "another process"
        )
        return Failure(
            description=(
                f"The warehouse file {path} is locked by {who}, so dbt cannot write it. "
                f"Ask whoever has it open (DuckDB CLI, Python, a BI tool) to close that session, "
                f"then re-run. Analysts can read the published Parquet files meanwhile."
            ),
            metadata={
                "warehouse_file": MetadataValue.path(str(path)),
                "lock_holder_pid": pid,
                "lock_holder_program": holder["program"] if holder else None,
                "duckdb_error": str(error),
            },
            allow_retries=False,
        )

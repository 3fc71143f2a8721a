"""The dbt resource the warehouse runs with: dbt-duckdb, but only when the DuckDB file can be written, and with
the silver Delta tables exposed as its sources (`ingestion/warehouse_sources.py`) just before dbt starts.

An analyst who keeps `lake/warehouse.duckdb` open (even read-only) holds a lock that makes dbt die deep in its
adapter with a lock error. We open the file once for writing before dbt starts, and turn DuckDB's lock error into a
failure that names the file and the process holding it, and says what to do. It is not retried: the analyst has to
close their session first.
"""

import re
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

import duckdb
from dagster import Failure, MetadataValue
from dagster_dbt import DbtCliInvocation, DbtCliResource
from packaging.version import Version

from ingestion.lake import Lake
from ingestion.warehouse_sources import expose_silver

# Every step that opens lake/warehouse.duckdb (dbt, the scorecard, and the steps that read it: DuckDB's read-only
# opens also conflict with another process writing) runs in this Dagster concurrency pool. The instance templates
# (deploy/dagster*.yaml) give it one slot, claimed by the run's executor when the step starts: one process at a
# time has the file open, whichever way the run was launched (schedule, sensor, the UI's Materialize, the CLI).
WAREHOUSE_POOL = "warehouse_duckdb"

_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _process_owner(pid: int) -> str | None:
    """The user running `pid` (Linux /proc), so the alert can say whose session to close."""
    try:
        uid = next(line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("Uid:"))
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
        who = (f"process {pid} ({holder['program']}"
               + (f", user {owner}" if pid and (owner := _process_owner(pid)) else "") + ")") if holder \
            else "another process"
        return Failure(
            description=(f"The warehouse file {path} is locked by {who}, so dbt cannot write it. "
                         f"Ask whoever has it open (DuckDB CLI, Python, a BI tool) to close that session, "
                         f"then re-run. Analysts can read the published Parquet files meanwhile."),
            metadata={"warehouse_file": MetadataValue.path(str(path)), "lock_holder_pid": pid,
                      "lock_holder_program": holder["program"] if holder else None,
                      "duckdb_error": str(error)},
            allow_retries=False,
        )


class _DbtInvocationWithoutRetries(DbtCliInvocation):
    """dbt's own errors (bad SQL, failed dbt tests) are deterministic: a retry would only delay the alert."""

    def get_error(self) -> Exception | None:
        error = super().get_error()
        if isinstance(error, Failure):
            error.allow_retries = False
        return error


class WarehouseDbtResource(DbtCliResource):
    """DbtCliResource that refuses to start dbt while another process holds the DuckDB file, and whose dbt
    errors are not retried by the job's RetryPolicy (which is meant for transient failures)."""

    @cached_property
    def _cli_version(self) -> Version:
        """dbt-core installed beside Dagster (the `dbt` it runs is this environment's): read from the package's
        metadata instead of dagster-dbt's `dbt --version` subprocess, which costs ~3 s per run."""
        return Version(installed_version("dbt-core"))

    def cli(self, args, **kwargs):
        lake = Lake.from_env()
        failure = warehouse_lock_error(lake.warehouse)
        if failure is not None:
            raise failure
        exposed = expose_silver(lake)
        if (context := kwargs.get("context")) is not None:
            context.log.info("dbt sources: " + ", ".join(f"silver.{name} ({kind})" for name, kind in exposed.items()))
        invocation = super().cli(args, **kwargs)
        invocation.__class__ = _DbtInvocationWithoutRetries
        return invocation

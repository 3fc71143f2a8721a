"""The project's own Dagster instance: DAGSTER_HOME (default `.dagster_home/`) with a dagster.yaml from `deploy/`.

    python -m orchestration.instance      # prints DAGSTER_HOME; `make ui` runs it before `dagster dev`

Embedded default: deploy/dagster.yaml (SQLite storage in DAGSTER_HOME, run queue; one step at a time
opens the DuckDB warehouse: pool `warehouse_duckdb`).
With TN_DAGSTER_PG_URL set: deploy/dagster.postgres.yaml (the same, with storage in PostgreSQL). Switching is
configuration only: the environment picks the template.
"""

import os
import shutil
import sys
from pathlib import Path

from ingestion.lake import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def instance_template(environ=os.environ) -> Path:
    return DEPLOY / ("dagster.postgres.yaml" if environ.get("TN_DAGSTER_PG_URL") else "dagster.yaml")


def prepare_dagster_home(environ=os.environ) -> Path:
    """Create DAGSTER_HOME and (re)write its dagster.yaml from the template the environment selects."""
    home = Path(environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    target, template = home / "dagster.yaml", instance_template(environ)
    if not target.exists() or target.read_bytes() != template.read_bytes():
        shutil.copyfile(template, target)
    return home


if __name__ == "__main__":
    home = prepare_dagster_home()
    print(f"DAGSTER_HOME={home} ({instance_template().name})", file=sys.stderr)

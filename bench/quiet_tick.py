"""The refresh that finds nothing new: one nightly-schedule tick and one landing-sensor evaluation on a lake that has
ingested everything, timed (both must skip, without starting a run, in ≤ 5 s).

    TN_LAKE_DIR=... DAGSTER_HOME=... python -m bench.quiet_tick RESULT_JSON

Loading the code location (imports, the repository) is timed apart: the daemon does it once, not per tick.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(result_path: Path) -> int:
    started = time.perf_counter()
    from dagster import DagsterInstance, SkipReason, build_schedule_context, build_sensor_context

    from orchestration.definitions import defs
    from orchestration.resources import LakeResource
    from orchestration.schedules import nightly_warehouse_refresh
    from orchestration.sensors import landing_zone_sensor

    imported = time.perf_counter() - started
    repository = defs.get_repository_def()
    repository.asset_graph  # noqa: B018 - built once when the daemon loads the code location, not per tick
    loaded = time.perf_counter() - started
    resources = {"lake_resource": LakeResource.from_env()}
    with DagsterInstance.get() as instance:
        t0 = time.perf_counter()
        tick = nightly_warehouse_refresh(
            build_schedule_context(instance=instance, resources=resources, repository_def=repository)
        )
        t1 = time.perf_counter()
        sensed = landing_zone_sensor(
            build_sensor_context(instance=instance, resources=resources, repository_def=repository)
        )
        t2 = time.perf_counter()
    outcome = {
        "import_seconds": round(imported, 3),
        "code_location_seconds": round(loaded, 3),
        "schedule_tick_seconds": round(t1 - t0, 3),
        "sensor_seconds": round(t2 - t1, 3),
        "schedule": getattr(tick, "skip_message", None) or f"RunRequest of {len(tick.asset_selection)} assets",
        "sensor": getattr(sensed, "skip_message", None) or f"RunRequest of {len(sensed.asset_selection)} assets",
    }
    print(json.dumps(outcome, indent=2), flush=True)
    result_path.write_text(json.dumps(outcome, indent=2))
    return 0 if isinstance(tick, SkipReason) and isinstance(sensed, SkipReason) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))

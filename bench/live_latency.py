"""Live mode's latency: from one dossier file landing to its rows being in `lake/shared_marts.duckdb`.

    python -m bench.live_latency --scale small        # own lake under bench/work/live-small (built first, untimed)
    TN_LAKE_DIR=... DAGSTER_HOME=... python -m bench.live_latency --result R.json   # a lake already refreshed

On a lake already refreshed, prepare the manifest after changing the dbt project (`python -m orchestration.
dbt_project`, a deployment's build step); it is not prepared here, because dagster-dbt's prepare makes the next dbt
run re-parse the seeds (about 2 s) and a nightly run after the last deployment does not.

One dossier file of the next day lands; the landing sensor is evaluated (as the daemon does, here once a second)
until it requests a run; the requested `warehouse_refresh` run executes in process with the sensor's selection and
tags, while a thread polls the shared file until the file's dossiers are in `records.dossiers` (what the run does
after publishing the file, open data, delays no reader). Not included: the wait for the sensor's next evaluation
(its minimum interval, 60 s) and a launched run's process start and imports (the daemon launches a run in a new
process; `bench.quiet_tick` times the imports).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_KEY = "bench-only-pseudonym-key-not-for-production-0001"  # pseudonyms of generated data, never of real people


def _own_lake(scale: str) -> None:
    """Point the environment at bench/work/live-<scale>, generating and refreshing it first when it is empty."""
    work = ROOT / "bench" / "work" / f"live-{scale}"
    os.environ.update(
        TN_LAKE_DIR=str(work / "lake"), DAGSTER_HOME=str(work / "dagster_home"), TN_PSEUDONYM_KEY=BENCH_KEY
    )
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    from ingestion.lake import Lake

    lake = Lake.from_env()
    if lake.shared_marts.exists():
        return
    from bench.scales import NAMES  # noqa: F401 - registers the bench scales
    from ingestion.sample_data import generate
    from orchestration.dbt_project import prepare_manifest
    from orchestration.run_pipeline import run_refresh

    if not any(lake.landing.glob("*/*")):
        generate(lake.landing, scale)
    prepare_manifest()
    from dagster import DagsterInstance

    print(f"[live] building {lake.root} first (untimed)", flush=True)
    with DagsterInstance.get() as instance:
        assert run_refresh(instance).success, "the first refresh failed"


def _land_dossiers(lake, scale: str) -> tuple[Path, list[str]]:
    """One dossier file of the first day after the sample that has none yet; returns it and its dossier ids."""
    from datetime import timedelta

    import polars as pl

    from bench.extra_day import add_extra_day
    from ingestion.catalog import load_catalog
    from ingestion.sample_data import DEFAULT_END

    days_after = 1
    while (lake.landing / "dossiers" / f"dossiers_{DEFAULT_END + timedelta(days=days_after)}.csv").exists():
        days_after += 1
    written = add_extra_day(lake.landing, scale, days_after=days_after, only=("dossiers",))
    path = lake.landing / written["dossiers"]["file"]
    header = next(c.header for c in load_catalog()["dossiers"].columns if c.name == "dossier_id")
    return path, pl.read_csv(path, infer_schema_length=0)[header].to_list()


def _visible(shared: Path, ids: list[str]) -> bool:
    import duckdb

    try:
        with duckdb.connect(str(shared), read_only=True) as con:
            found = con.execute("select count(*) from records.dossiers where dossier_id in ?", [ids]).fetchone()[0]
    except duckdb.Error:
        return False
    return found == len(set(ids))


def _watch(shared: Path, ids: list[str], visible_at: list[float], deadline: float) -> None:
    """Poll the shared file until the ids are in it (appends when) or the deadline passes."""
    while time.perf_counter() < deadline:
        if _visible(shared, ids):
            visible_at.append(time.perf_counter())
            return
        time.sleep(0.2)


def measure(scale: str, timeout: float = 900) -> dict:
    from dagster import DagsterInstance, RunRequest, build_sensor_context

    from ingestion.lake import Lake
    from orchestration.definitions import defs
    from orchestration.resources import LakeResource
    from orchestration.sensors import landing_zone_sensor

    lake = Lake.from_env()
    repository = defs.get_repository_def()
    resources = {"lake_resource": LakeResource.from_env()}
    with DagsterInstance.get() as instance:
        landed_at = time.perf_counter()
        path, ids = _land_dossiers(lake, scale)
        landed = time.perf_counter()
        evaluations, evaluating = 0, 0.0
        while True:
            t0 = time.perf_counter()
            request = landing_zone_sensor(
                build_sensor_context(instance=instance, resources=resources, repository_def=repository)
            )
            evaluating += time.perf_counter() - t0
            evaluations += 1
            if isinstance(request, RunRequest):
                break
            if time.perf_counter() - landed_at > timeout:
                raise TimeoutError("the sensor never requested a run")
            time.sleep(1)
        requested = time.perf_counter()
        visible_at: list[float] = []
        watcher = threading.Thread(target=_watch, args=(lake.shared_marts, ids, visible_at, landed_at + timeout))
        watcher.start()  # the rows are in the file once it is renamed into place, before the run's last steps
        result = defs.resolve_job_def("warehouse_refresh").execute_in_process(
            instance=instance,
            asset_selection=list(request.asset_selection),
            tags=request.tags,
            raise_on_error=False,
        )
        ran = time.perf_counter()
        watcher.join()
        if not visible_at:
            raise TimeoutError("the landed dossiers never reached the shared file")
        visible = visible_at[0]
    return {
        "scale": scale,
        "file": str(path.relative_to(lake.landing)),
        "rows": len(ids),
        "run_success": result.success,
        "selected_assets": len(request.asset_selection),
        "landing_seconds": round(landed - landed_at, 3),
        "sensor_evaluations": evaluations,
        "sensor_seconds": round(evaluating, 3),
        "run_seconds": round(ran - requested, 3),
        "visible_before_run_ended_seconds": round(ran - visible, 3),
        "latency_seconds": round(visible - landed, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default=None, help="own lake at this scale (default: the environment's lake)")
    parser.add_argument("--result", type=Path, default=None, help="write the figures here (JSON)")
    args = parser.parse_args()
    if args.scale:
        _own_lake(args.scale)
    outcome = measure(args.scale or os.environ.get("TN_BENCH_SCALE", "small"))
    print(json.dumps(outcome, indent=2), flush=True)
    if args.result:
        args.result.write_text(json.dumps(outcome, indent=2))
    return 0 if outcome["run_success"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Province-scale benchmark of a nightly refresh against the floor (not a test).

    python -m bench.run --scale province                   # generate, floor, full refresh, incremental refresh
    python -m bench.run --scale province --reuse-landing   # keep bench/work/province/landing from a previous run

On a fresh lake under `bench/work/<scale>/lake` (git-ignored), with the landing files hard-linked from a generated
landing zone (generation is timed on its own and is not part of any ratio):
1. floor: DuckDB reading the same landing files and writing Parquet, nothing else (`bench/floor.py`);
2. full: the `warehouse_refresh` job through Dagster, in process (ingest, dbt, every check);
3. incremental: after one more day of extracts lands (`bench/extra_day.py`), the same job restricted to what the
   nightly schedule would run (the one change detector, `orchestration/change_detection.py`;
   `--incremental-whole-job` runs the whole job instead, for comparison);
4. nothing new: a schedule tick and a landing-sensor evaluation on the refreshed lake, which must skip (`bench/
   quiet_tick.py`);
5. live: one more dossier file lands; the landing sensor's run and the time until its rows are in the shared file
   (`bench/live_latency.py`).
Each stage runs in a child process; wall time, peak RSS of its process tree (dbt included) and per-step timings
from the run's event log are printed and written to `bench/results/<timestamp>.json` and `bench/results/latest.json`.

Targets (issue 17): full ≤ 6 × floor, peak RSS < 4 GiB, incremental ≤ 10 % of full, nothing new ≤ 5 s, live ≤ 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import Measured, machine_load, run_measured
from bench.scales import NAMES as SCALE_NAMES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GIB = 1 << 30
# Issue 17's targets for the nightly path.
TARGETS = {
    "full_over_floor": 6.0,
    "peak_rss_gib": 4.0,
    "incremental_over_full": 0.10,
    "nothing_new_seconds": 5.0,
    "live_latency_seconds": 30.0,
}
# The shared file refuses to build without a pseudonym key: the bench's lake is generated data, so a fixed bench-only
# key (never a production one) lets it build and be timed.
BENCH_PSEUDONYM_KEY = "bench-only-pseudonym-key-not-for-production-0001"


def _stage(name: str, command: list[str], env: dict, work: Path) -> tuple[Measured, dict]:
    print(f"[bench] {name}: {' '.join(command[2:])}", flush=True)
    load = machine_load()
    measured = run_measured([sys.executable, *command], env, ROOT, work / f"{name}.log")
    print(
        f"[bench] {name}: {measured.wall_seconds:,.1f} s, peak tree RSS {measured.peak_tree_rss_bytes / GIB:.2f} GiB, "
        f"{measured.cores_busy:.2f} cores busy (exit {measured.returncode}, log {work / f'{name}.log'})",
        flush=True,
    )
    return measured, load


def _steps_at(steps: list[dict], when: float) -> list[str]:
    return [s["step"] for s in steps if s.get("start") and s.get("end") and s["start"] <= when <= s["end"] + 0.5]


def _summary(measured: Measured, load: dict, detail: dict | None = None) -> dict:
    detail = detail or {}
    return {
        "wall_seconds": round(measured.wall_seconds, 2),
        "peak_tree_rss_gib": round(measured.peak_tree_rss_bytes / GIB, 3),
        "peak_rss_during_steps": _steps_at(detail.get("steps", []), measured.peak_at),
        "max_single_process_rss_gib": round(measured.max_single_rss_bytes / GIB, 3),
        "cpu_seconds": round(measured.cpu_seconds, 1),
        "cores_busy": round(measured.cores_busy, 2),
        "exit_code": measured.returncode,
        "machine_at_start": load,
        **detail,
    }


def _git() -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _print_steps(title: str, steps: list[dict], top: int) -> None:
    print(f"\n{title}: slowest steps")
    print(f"  {'step':<64} {'seconds':>9} {'rows':>12} {'rows/s':>11}")
    for step in steps[:top]:
        rows = f"{step['rows']:,}" if step.get("rows") else "–"
        rate = f"{step['rows_per_second']:,}" if step.get("rows_per_second") else "–"
        print(f"  {step['step'][:64]:<64} {step['seconds'] or 0:>9.1f} {rows:>12} {rate:>11}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="province", choices=SCALE_NAMES)
    parser.add_argument("--work", type=Path, default=None, help="work dir (default bench/work/<scale>)")
    parser.add_argument("--reuse-landing", action="store_true", help="keep a previously generated landing zone")
    parser.add_argument("--skip-floor", action="store_true", help="reuse the floor figure of the last result")
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument(
        "--incremental-whole-job",
        action="store_true",
        help="incremental refresh = the whole warehouse_refresh job, not only changed sources",
    )
    parser.add_argument("--note", default="", help="free text stored with the result (what changed)")
    parser.add_argument("--top", type=int, default=15, help="slowest steps to print")
    args = parser.parse_args()

    work = (args.work or ROOT / "bench" / "work" / args.scale).resolve()
    landing_src, lake, floor_out = work / "landing", work / "lake", work / "floor"
    work.mkdir(parents=True, exist_ok=True)
    # dagster-dbt finds `dbt` on PATH: put this interpreter's bin/ first (uv run does; a bare .venv/bin/python doesn't)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "note": args.note,
        "git": _git(),
        "cpus": os.cpu_count(),
        "targets": TARGETS,
    }

    if args.reuse_landing and any(landing_src.glob("*/*")):
        result["generate"] = {"reused": str(landing_src)}
        print(f"[bench] reusing landing zone {landing_src}")
    else:
        shutil.rmtree(landing_src, ignore_errors=True)
        measured, load = _stage(
            "generate", ["-m", "bench.scales", "--scale", args.scale, "--out", str(landing_src)], env, work
        )
        result["generate"] = _summary(measured, load)
    files = [p for p in landing_src.rglob("*") if p.is_file()]
    result["landing"] = {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}

    # A fresh lake each time; landing files are hard links (the pipeline only reads them).
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(landing_src), str(lake / "landing")], check=True)
    dagster_home = work / "dagster_home"
    shutil.rmtree(dagster_home, ignore_errors=True)
    dagster_home.mkdir()
    pipeline_env = {
        **env,
        "TN_LAKE_DIR": str(lake),
        "DAGSTER_HOME": str(dagster_home),
        "TN_PSEUDONYM_KEY": BENCH_PSEUDONYM_KEY,
        "TN_BENCH_SCALE": args.scale,
    }

    if args.skip_floor and _read(RESULTS / "latest.json").get("floor", {}).get("scale_check") == args.scale:
        result["floor"] = {**_read(RESULTS / "latest.json")["floor"], "reused_from_previous_result": True}
    else:
        shutil.rmtree(floor_out, ignore_errors=True)
        measured, load = _stage(
            "floor", ["-m", "bench.floor", str(lake / "landing"), str(floor_out), str(work / "floor.json")], env, work
        )
        result["floor"] = _summary(measured, load, {"scale_check": args.scale, **_read(work / "floor.json")})
        shutil.rmtree(floor_out, ignore_errors=True)

    # Deployment work, not refresh work: the dbt manifest is prepared here, untimed, as a deployment's build step does.
    subprocess.run([sys.executable, "-m", "orchestration.dbt_project"], cwd=ROOT, env=pipeline_env, check=True)
    measured, load = _stage("full", ["-m", "bench.pipeline", str(work / "full.json")], pipeline_env, work)
    result["full"] = _summary(measured, load, _read(work / "full.json"))

    if not args.no_incremental:
        from bench.extra_day import add_extra_day

        t0 = time.perf_counter()
        result["extra_day"] = {
            "files": add_extra_day(lake / "landing", args.scale),
            "seconds_to_generate": round(time.perf_counter() - t0, 2),
        }
        measured, load = _stage(
            "incremental",
            [
                "-m",
                "bench.pipeline",
                str(work / "incremental.json"),
                *([] if args.incremental_whole_job else ["--incremental"]),
            ],
            pipeline_env,
            work,
        )
        result["incremental"] = _summary(measured, load, _read(work / "incremental.json"))

        measured, load = _stage("nothing_new", ["-m", "bench.quiet_tick", str(work / "quiet.json")], pipeline_env, work)
        result["nothing_new"] = _summary(measured, load, _read(work / "quiet.json"))
        measured, load = _stage(
            "live", ["-m", "bench.live_latency", "--result", str(work / "live.json")], pipeline_env, work
        )
        result["live"] = _summary(measured, load, _read(work / "live.json"))

    floor_s, full_s = result["floor"]["wall_seconds"], result["full"]["wall_seconds"]
    rows = result["floor"].get("rows") or 0
    result["rows_landed"] = rows
    result["full_over_floor"] = round(full_s / floor_s, 2)
    peaks = [result[s]["peak_tree_rss_gib"] for s in ("full", "incremental") if s in result]
    result["peak_rss_gib"] = max(peaks)
    if "incremental" in result:
        result["incremental_over_full"] = round(result["incremental"]["wall_seconds"] / full_s, 4)
    if "nothing_new" in result:
        quiet = result["nothing_new"]
        result["nothing_new_seconds"] = round(quiet.get("schedule_tick_seconds", 0) + quiet.get("sensor_seconds", 0), 3)
    if "live" in result:
        result["live_latency_seconds"] = result["live"].get("latency_seconds")
    result["targets_met"] = {
        "full_over_floor": result["full_over_floor"] <= TARGETS["full_over_floor"],
        "peak_rss_gib": result["peak_rss_gib"] < TARGETS["peak_rss_gib"],
        **(
            {"incremental_over_full": result["incremental_over_full"] <= TARGETS["incremental_over_full"]}
            if "incremental" in result
            else {}
        ),
        **(
            {"nothing_new_seconds": result["nothing_new_seconds"] <= TARGETS["nothing_new_seconds"]}
            if "nothing_new" in result
            else {}
        ),
        **(
            {"live_latency_seconds": result["live_latency_seconds"] <= TARGETS["live_latency_seconds"]}
            if result.get("live_latency_seconds") is not None
            else {}
        ),
    }

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in (RESULTS / f"{stamp}-{args.scale}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))

    print(
        f"\n=== bench {args.scale}: {rows:,} landed rows in {result['landing']['files']} files "
        f"({result['landing']['bytes'] / 1e9:.2f} GB) ==="
    )
    print(f"{'stage':<14} {'wall s':>9} {'rows/s':>12} {'peak RSS GiB':>13}")
    for stage in ("floor", "full", "incremental"):
        if stage in result:
            s = result[stage]
            stage_rows = (
                rows if stage != "incremental" else sum(f["rows"] for f in result["extra_day"]["files"].values())
            )
            print(
                f"{stage:<14} {s['wall_seconds']:>9.1f} {stage_rows / s['wall_seconds']:>12,.0f} "
                f"{s['peak_tree_rss_gib']:>13.2f}"
            )
    print(
        f"full/floor = {result['full_over_floor']} (target ≤ {TARGETS['full_over_floor']}); "
        f"peak RSS = {result['peak_rss_gib']} GiB (target < {TARGETS['peak_rss_gib']}); "
        + (
            f"incremental/full = {result['incremental_over_full']:.2%} "
            f"(target ≤ {TARGETS['incremental_over_full']:.0%})"
            if "incremental" in result
            else ""
        )
    )
    if "nothing_new" in result:
        q = result["nothing_new"]
        print(
            f"nothing new: schedule tick {q.get('schedule_tick_seconds')} s, sensor {q.get('sensor_seconds')} s "
            f"(target ≤ {TARGETS['nothing_new_seconds']} s; loading the code location "
            f"{q.get('code_location_seconds')} s, once per daemon); exit {q['exit_code']}"
        )
    if "live" in result:
        live = result["live"]
        print(
            f"live: {live.get('rows')} dossiers landed → in the shared file after {live.get('latency_seconds')} s "
            f"(sensor {live.get('sensor_seconds')} s, run {live.get('run_seconds')} s, "
            f"{live.get('selected_assets')} assets)"
        )
    for stage in ("full", "incremental"):
        if stage in result:
            print(f"{stage}: peak RSS while running {result[stage]['peak_rss_during_steps'] or '(between steps)'}")
        if result.get(stage, {}).get("steps"):
            _print_steps(stage, result[stage]["steps"], args.top)
        if result.get(stage, {}).get("failed_checks"):
            print(f"  {stage}: failed checks: {', '.join(result[stage]['failed_checks'])}")
    print(f"\nwritten to {RESULTS / f'{stamp}-{args.scale}.json'}")
    stages = ("floor", "full", "incremental", "nothing_new", "live")
    return 0 if all(result.get(s, {}).get("exit_code", 0) == 0 for s in stages) else 1


if __name__ == "__main__":
    sys.exit(main())

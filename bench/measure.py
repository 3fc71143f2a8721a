"""Wall time and peak resident memory of a child process and everything it starts (dbt runs as a subprocess).

The peak is the largest *sum* of RSS over the process tree seen by a poller (every 0.1 s, from /proc), so a
dbt subprocess running next to the Dagster process counts together with it; `getrusage(RUSAGE_CHILDREN)` gives
the largest single process for comparison.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _rss(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    children, total, stack = _children_map(), 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss(pid)
        stack.extend(children.get(pid, []))
    return total


@dataclass
class Measured:
    wall_seconds: float
    peak_tree_rss_bytes: int
    max_single_rss_bytes: int
    returncode: int
    peak_at: float = 0.0  # epoch seconds of the peak, to find the step that was running
    cpu_seconds: float = 0.0  # user + system time of the process and the children it waited for

    @property
    def cores_busy(self) -> float:
        """CPU seconds per wall second: how much of the machine's cores the stage kept busy."""
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0


def run_measured(command: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> Measured:
    """Run `command`, polling its process tree's RSS; stdout/stderr go to `log_path`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, peak_at = 0, 0.0
    with log_path.open("w") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        stop = threading.Event()

        def poll() -> None:
            nonlocal peak, peak_at
            while not stop.is_set():
                rss = tree_rss(process.pid)
                if rss > peak:
                    peak, peak_at = rss, time.time()
                stop.wait(0.1)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        returncode = process.wait()
        wall = time.perf_counter() - start
        stop.set()
        poller.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    single = after.ru_maxrss * 1024
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Measured(wall, peak, single if single > before.ru_maxrss * 1024 else 0, returncode, peak_at, cpu)


def machine_load() -> dict:
    """What else was running: load average and the busiest other processes (for the report)."""
    load = os.getloadavg()
    busy = []
    out = subprocess.run(
        ["ps", "-eo", "pid,pcpu,rss,args", "--sort=-pcpu", "--no-headers"], capture_output=True, text=True
    ).stdout.splitlines()
    me = os.getpid()
    for line in out[:8]:
        pid, cpu, rss, args = line.split(None, 3)
        if int(pid) != me and float(cpu) >= 5:
            busy.append({"pid": int(pid), "cpu_percent": float(cpu), "rss_mb": int(rss) // 1024, "cmd": args[:120]})
    return {"loadavg_1_5_15": [round(x, 2) for x in load], "busy_processes": busy}


RESULTS_DIR = Path(__file__).resolve().parent / "results"


def own_peak_rss_mib() -> int:
    """Peak resident memory of this process (for benchmarks that run in process)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def report(name: str, results: dict) -> Path:
    """Print a benchmark's figures and keep them in bench/results/<name>.json."""
    text = json.dumps(results, indent=2)
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(text)
    return path

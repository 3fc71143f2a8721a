"""Load on the sharing service while the shared file is republished (issue 18). Loopback only.

    uv run python -m bench.service_load [--lake lake/] [--clients 20] [--seconds 30] [--republish-every 3]

Copies the lake's shared file and open data to bench/work/service/ (the lake itself is not touched), issues a key,
starts `python -m service` (uvicorn) on 127.0.0.1, and runs `--clients` threads, each with its own keep-alive
connection, cycling through four requests (open data, a filtered mart, a department's page of person-level records,
a mart sorted) for `--seconds`. Meanwhile the shared file is republished the way a refresh does it (copy, change,
os.replace) every `--republish-every` seconds. Prints and writes bench/results/<time>-service_load.json: requests/s,
p50/p99 latency, errors, how many versions of the file the clients saw, and ledger lines against requests sent.
The rate limit is raised out of the way (TN_SERVICE_RATE) so the figures are the service's, not the limiter's.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import duckdb

from ingestion.lake import PROJECT_ROOT, Lake
from service.keys import issue

WORK = PROJECT_ROOT / "bench" / "work" / "service"
RESULTS = PROJECT_ROOT / "bench" / "results"
MART = "marts.mart_dossier_on_time_by_agency_month"
CONSUMERS = """
consumers:
  bench-ioc:
    agency: Trung tâm IOC (bench)
    datasets: [marts.*]
  bench-so-tu-phap:
    agency: Sở Tư pháp (bench)
    datasets:
      records.dossiers:
        rows: {agency_code: H56.01}
"""


def _requests(keys: dict[str, str]) -> list[tuple[str, dict, dict]]:
    ioc, justice = {"X-API-Key": keys["bench-ioc"]}, {"X-API-Key": keys["bench-so-tu-phap"]}
    return [
        ("/datasets/ho-so-dung-han-theo-co-quan-thang/rows", {}, {"month__gte": "2026-09-01"}),
        (f"/datasets/{MART}/rows", ioc, {"limit": "1000"}),
        ("/datasets/records.dossiers/rows", justice, {"limit": "100", "sort": "-received_date"}),
        ("/datasets/marts.mart_public_service_dossiers_monthly/rows", ioc, {"sort": "-month", "limit": "500"}),
    ]


def _republish(shared_file: Path) -> None:
    building = shared_file.with_name("building.duckdb")
    shutil.copyfile(shared_file, building)
    with duckdb.connect(str(building)) as con:
        con.execute(f"delete from {MART} where rowid = (select min(rowid) from {MART})")
    os.replace(building, shared_file)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=Lake.from_env().root, help="a lake with a shared file")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--republish-every", type=float, default=3)
    args = parser.parse_args()
    source = Lake(args.lake.resolve())
    if not source.shared_marts.exists():
        raise SystemExit(f"{source.shared_marts} missing: run `python -m orchestration.run_pipeline --scale tiny`")

    shutil.rmtree(WORK, ignore_errors=True)
    lake = Lake(WORK / "lake")
    lake.root.mkdir(parents=True)
    shutil.copyfile(source.shared_marts, lake.shared_marts)
    shutil.copytree(source.open_data, lake.open_data)
    (WORK / "consumers.yaml").write_text(CONSUMERS, encoding="utf-8")
    keys_file = WORK / "keys.json"
    keys = {consumer: issue(keys_file, consumer)[1] for consumer in ("bench-ioc", "bench-so-tu-phap")}
    port = _port()
    env = {
        **os.environ,
        "TN_LAKE_DIR": str(lake.root),
        "TN_SERVICE_CONSUMERS": str(WORK / "consumers.yaml"),
        "TN_SERVICE_KEYS": str(keys_file),
        "TN_SERVICE_PORT": str(port),
        "TN_SERVICE_RATE": "1000000",
        "TN_SERVICE_BURST": "1000000",
    }
    server = subprocess.Popen([sys.executable, "-m", "service"], cwd=PROJECT_ROOT, env=env)
    try:
        for _ in range(240):
            try:
                health = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                health.request("GET", "/health")
                health.getresponse().read()
                break
            except OSError:
                time.sleep(0.25)
        plan = _requests(keys)
        latencies, errors, mart_counts = [], [], set()
        lock = threading.Lock()
        stop = threading.Event()

        def client(offset: int) -> None:
            """One consumer system: one keep-alive connection (stdlib, a new one after a failure)."""
            own_latencies, own_errors, own_counts = [], [], set()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = offset
            while not stop.is_set():
                url, headers, params = plan[i % len(plan)]
                i += 1
                started = time.perf_counter()
                try:
                    connection.request("GET", f"{url}?{urlencode(params)}", headers=headers)
                    answer = connection.getresponse()
                    body = answer.read()
                    if answer.status == 200 and url == f"/datasets/{MART}/rows":
                        own_counts.add(json.loads(body)["count"])
                    elif answer.status != 200:
                        own_errors.append(f"{url}: {answer.status}")
                except (OSError, http.client.HTTPException) as error:
                    own_errors.append(f"{url}: {type(error).__name__}")
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                own_latencies.append(time.perf_counter() - started)
            connection.close()
            with lock:
                latencies.extend(own_latencies)
                errors.extend(own_errors)
                mart_counts.update(own_counts)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        republished = 0
        while time.perf_counter() - started < args.seconds:
            time.sleep(min(args.republish_every, max(0.0, args.seconds - (time.perf_counter() - started))))
            if time.perf_counter() - started < args.seconds:
                _republish(lake.shared_marts)
                republished += 1
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    ledger_lines = sum(1 for path in (lake.root / "service" / "ledger").glob("*.jsonl") for _ in path.open())
    ordered = sorted(latencies)
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "republished": republished,
        "file_versions_seen": len(mart_counts),
        "ledger_lines": ledger_lines,
        "health_checks": ledger_lines - len(latencies),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-service_load.json").write_text(json.dumps(result, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

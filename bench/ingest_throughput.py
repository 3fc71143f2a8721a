"""Ingestion throughput: rows/s and peak memory of bronze + silver for one big source (not a test).

    uv run python bench/ingest_throughput.py --source dossiers --rows 1000000
    uv run python bench/ingest_throughput.py --source health_visits --rows 1000000
    uv run python bench/ingest_throughput.py --source enterprises --rows 1000000   # upsert: merge of a 10% update

Generates the source's sample extracts at the requested size in a temporary lake (outside the timing), then
runs bronze (read, hash, append) and silver (type, check, dedupe, write, quarantine) in a child process, so
the peak resident memory reported is ingestion's alone. A second run on the same lake measures the
incremental no-op (every file already ingested); for enterprises (an upsert source) a third run lands a file
that changes 10% of the enterprises and adds 1% new ones, merged into silver with deltalake's merge.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(source: str, rows: int, landing: Path, seed: int = 19) -> int:
    from ingestion import sample_data as sd
    from ingestion.catalog import load_catalog

    rng = np.random.default_rng(seed)
    catalog = load_catalog()
    citizens = sd.make_citizens(rng, max(rows // 3, 1000))
    cccd = citizens["cccd"].to_numpy()
    end = sd.DEFAULT_END
    if source == "dossiers":
        frame = sd.make_dossiers(rng, rows, cccd, end)
        frame = sd._spoil(rng, frame, {"applicant_cccd": "01923", "received_date": None, "commune_code": "99999"})
        for (day,), part in frame.group_by("_day", maintain_order=True):
            sd._write(
                part.select(catalog["dossiers"].column_names),
                catalog["dossiers"],
                landing / "dossiers" / f"dossiers_{day}.csv",
            )
    elif source == "health_visits":
        facilities = sd.make_health_facilities(rng)["facility_code"].to_numpy()
        frame = sd.make_health_visits(rng, rows, cccd, facilities, end)
        frame = sd._spoil(rng, frame, {"patient_cccd": "0191234", "visit_date": "32/13/2026", "insured": "không rõ"})
        sd._write(frame, catalog["health_visits"], landing / "health_visits" / f"luot_kham_{end:%Y%m}.txt")
    elif source == "enterprises":
        frame = sd.make_enterprises(rng, rows, cccd, end)
        sd._write(frame, catalog["enterprises"], landing / "enterprises" / f"enterprises_{end:%Y%m%d}.ndjson")
    else:
        raise SystemExit(f"no generator wired for {source}")
    return frame.height


def land_enterprise_update(landing: Path, seed: int = 20) -> int:
    """10% of the landed enterprises with a new status and capital, plus 1% new enterprises."""
    import polars as pl

    current = pl.read_ndjson(next((landing / "enterprises").glob("*.ndjson")), infer_schema_length=None)
    changed = current.sample(fraction=0.1, seed=seed).with_columns(
        pl.lit("Tạm ngừng kinh doanh").alias("tinh_trang"),
        (pl.col("von_dieu_le") * 2).alias("von_dieu_le"),
        pl.lit("2026-11-01T09:00:00+07:00").alias("ngay_cap_nhat"),
    )
    new = current.sample(fraction=0.01, seed=seed + 1).with_columns(
        (
            pl.col("ma_so_thue").str.slice(0, 10) + "-9" + pl.int_range(pl.len()).mod(100).cast(pl.String).str.zfill(2)
        ).alias("ma_so_thue")
    )
    update = pl.concat([changed, new]).unique("ma_so_thue")
    update.write_ndjson(landing / "enterprises" / "enterprises_20261101.ndjson")
    return update.height


def ingest_once(source: str, lake_dir: str) -> dict:
    """Runs in the child process."""
    from ingestion.bronze import load_bronze
    from ingestion.catalog import load_catalog
    from ingestion.lake import Lake
    from ingestion.silver import build_silver

    lake = Lake(Path(lake_dir))
    spec = load_catalog()[source]
    started = time.perf_counter()
    load = load_bronze(
        spec,
        lake.landing,
        lake.bronze(source),
        log=lambda _: None,
        quarantine_path=lake.quarantine,
        log_path=lake.ingestion_log,
    )
    bronze_s = time.perf_counter() - started
    build = build_silver(spec, lake.bronze(source), lake.silver(source), lake.quarantine, lake.ingestion_log)
    total_s = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows_new": load.rows_written,
        "files_new": len(load.files_new),
        "bronze_s": round(bronze_s, 2),
        "silver_s": round(total_s - bronze_s, 2),
        "total_s": round(total_s, 2),
        "silver_mode": build.mode,
        "silver_rows": build.silver_rows,
        "quarantined": build.quarantined_rows,
        "rows_per_s": round(load.rows_written / total_s) if load.rows_written else None,
        "peak_rss_mib": round(peak_kib / 1024),
    }


def run_child(source: str, lake_dir: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", source, str(lake_dir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="dossiers", choices=["dossiers", "health_visits", "enterprises"])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(ingest_once(*args.child)))
        return
    with tempfile.TemporaryDirectory(prefix="tn-bench-") as tmp:
        lake_dir = Path(tmp) / "lake"
        started = time.perf_counter()
        rows = generate(args.source, args.rows, lake_dir / "landing")
        size = sum(p.stat().st_size for p in (lake_dir / "landing").rglob("*") if p.is_file())
        print(
            f"generated {rows:,} {args.source} rows ({size / 2**20:,.0f} MiB) in {time.perf_counter() - started:.1f}s"
        )
        first = run_child(args.source, lake_dir)
        print(f"first ingestion : {json.dumps(first)}")
        again = run_child(args.source, lake_dir)
        print(f"re-run (no-op)  : {json.dumps(again)}")
        if args.source == "enterprises":
            rows = land_enterprise_update(lake_dir / "landing")
            merged = run_child(args.source, lake_dir)
            print(f"upsert {rows:,} rows: {json.dumps(merged)}")


if __name__ == "__main__":
    main()

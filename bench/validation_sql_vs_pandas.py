"""Benchmark: the silver dossiers suite on 5,000,000 rows with GX's SQL engine in DuckDB vs GX's pandas engine.

    uv run python bench/validation_sql_vs_pandas.py            # prepares the table once, then runs every mode
    uv run python bench/validation_sql_vs_pandas.py --rows 500000

Modes (each in its own process, so peak RSS is that mode's alone):
  pandas      polars reads the Delta table, copies it to a pandas frame, GX's pandas engine validates it
  sql_delta   the Delta table registered (Arrow dataset, no copy) in an in-memory DuckDB, GX's SQL engine
  sql_file    the same rows as a table in a DuckDB file opened read-only, GX's SQL engine

The suite is the pipeline's own `silver_suite(dossiers)`: required fields, CCCD with a real province code,
patterns, allowed statuses, plausible date ranges, commune codes in the ~13,000 known codes (twice: critical
and warning tiers), unique dossier ids. Results land in bench/results/validation_sql_vs_pandas.json.

Measured 2026-11-27 on the shared 2-core/24 GiB machine (load average ~5 from other jobs), 5,000,000 rows,
18 expectations, all passing in every mode:

    mode        seconds       rows/s  peak RSS MiB
    sql_delta     20.41      244,950         1,444     <- the pipeline's way (silver/bronze live in Delta)
    sql_file       8.56      584,360           985
    pandas       109.41       45,701         3,447
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
MODES = ("sql_delta", "sql_file", "pandas")


def prepare(rows: int, work: Path) -> tuple[Path, Path]:
    """A typed silver-like dossiers Delta table (and a DuckDB copy) with `rows` rows, made once per size."""
    import duckdb
    import numpy as np
    import polars as pl
    from deltalake import write_deltalake

    from ingestion.sample_data import DEFAULT_END, make_citizens, make_dossiers

    delta, db = work / f"dossiers_{rows}", work / f"dossiers_{rows}.duckdb"
    if not (delta / "_delta_log").exists():
        rng = np.random.default_rng(19)
        citizens = make_citizens(rng, 200_000)["cccd"].to_numpy()
        raw = make_dossiers(rng, rows, citizens, DEFAULT_END).drop("_month")
        typed = raw.with_columns(
            pl.col(c).str.strptime(pl.Date, "%d/%m/%Y") for c in ("received_date", "due_date", "returned_date")
        )
        write_deltalake(str(delta), typed.to_arrow(), mode="overwrite")
    if not db.exists():
        with duckdb.connect(str(db)) as con:
            con.register("source", pl.read_delta(str(delta)).to_arrow())
            con.execute("create table dossiers as select * from source")
    return delta, db


def run_mode(mode: str, delta: Path, db: Path) -> dict:
    from bench.measure import own_peak_rss_mib
    from ingestion.catalog import load_catalog
    from quality.gx_runner import validate_frame, validate_sql
    from quality.suites import silver_suite

    suite = silver_suite(load_catalog()["dossiers"], today=date(2026, 11, 27))
    started = time.perf_counter()
    if mode == "pandas":
        import polars as pl

        outcome = validate_frame("bench_pandas", suite, pl.read_delta(str(delta)))
    elif mode == "sql_delta":
        outcome = validate_sql("bench_sql_delta", suite, "dossiers", delta_tables={"dossiers": delta})
    else:
        outcome = validate_sql("bench_sql_file", suite, "dossiers", database=str(db), read_only=True)
    seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "rows": outcome.rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(outcome.rows / seconds),
        "expectations": len(outcome.outcomes),
        "failed": sorted(f"{o.rule}({o.column})" for o in outcome.outcomes if not o.success),
        "errors": [o.describe() for o in outcome.outcomes if o.error],
        "peak_rss_mib": own_peak_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--work", type=Path, default=RESULTS / "data")
    parser.add_argument("--mode", choices=MODES, help="run one mode in this process (used by the driver)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.mode:
        delta, db = args.work / f"dossiers_{args.rows}", args.work / f"dossiers_{args.rows}.duckdb"
        print(json.dumps(run_mode(args.mode, delta, db)))
        return

    started = time.perf_counter()
    prepare(args.rows, args.work)
    print(f"prepared {args.rows:,} rows in {time.perf_counter() - started:.1f}s", flush=True)
    figures = []
    for mode in MODES:
        done = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--rows", str(args.rows), "--work", str(args.work)],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            figures.append({"mode": mode, "failed_to_run": done.stderr[-2000:]})
        else:
            figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(figures[-1]), flush=True)
    out = RESULTS / "validation_sql_vs_pandas.json"
    out.write_text(json.dumps({"rows": args.rows, "results": figures}, indent=2))
    print(f"\n{'mode':<10} {'seconds':>8} {'rows/s':>12} {'peak RSS MiB':>13}")
    for f in figures:
        if "seconds" in f:
            print(f"{f['mode']:<10} {f['seconds']:>8} {f['rows_per_second']:>12,} {f['peak_rss_mib']:>13,}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()

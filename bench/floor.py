"""The floor: DuckDB reading the same landing files and writing them to Parquet, nothing else.

What DuckDB reads natively here (no extension downloads): UTF-8 CSV (with or without BOM), UTF-16 CSV
(`encoding='utf-16'`), JSON arrays and JSON Lines; each source's files are read with one glob and written as
one Parquet file. Its cheapest faithful equivalent for the rest:
- xlsx: no `excel` extension is available offline, so each workbook is read with calamine (the same reader the
  pipeline uses: `polars.read_excel(engine="calamine")`) and handed to DuckDB as Arrow, which writes the Parquet;
- TCVN3 and Windows-1258 CSV: decoded to UTF-8 in Python (`ingestion.encodings.decode`, the pipeline's decoder)
  into a temporary file, which DuckDB then reads.

    python -m bench.floor LANDING OUT_DIR RESULT_JSON
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

from ingestion.catalog import load_catalog
from ingestion.encodings import decode
from ingestion.extracts import landing_files


def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, select: str, target: Path) -> int:
    con.execute(f"copy ({select}) to {_sql_str(target)} (format parquet)").fetchall()
    return con.execute(f"select count(*) from read_parquet({_sql_str(target)})").fetchall()[0][0]


def floor_source(con: duckdb.DuckDBPyConnection, source, files: list[Path], out: Path, tmp: Path) -> tuple[int, str]:
    """Rows written and how they were read."""
    target = out / f"{source.name}.parquet"
    listing = "[" + ", ".join(_sql_str(p) for p in files) + "]"
    csv_options = f"header=true, all_varchar=true, delim={_sql_str(source.delimiter)}, quote='\"'"
    if source.format == "xlsx":
        tables = [pl.read_excel(p, engine="calamine", infer_schema_length=0).to_arrow() for p in files]
        rows = 0
        for i, table in enumerate(tables):
            con.register("_sheet", table)
            part = out / f"{source.name}.{i:02d}.parquet"
            rows += _copy(con, "select * from _sheet", part)
            con.unregister("_sheet")
        return rows, "calamine → Arrow → DuckDB COPY"
    if source.format == "csv" and source.encoding in ("utf-8", "utf-8-sig", "utf-16"):
        encoding = ", encoding='utf-16'" if source.encoding == "utf-16" else ""
        return _copy(
            con, f"select * from read_csv({listing}, {csv_options}{encoding})", target
        ), f"DuckDB read_csv ({source.encoding})"
    if source.format == "csv":
        decoded = []
        for path in files:
            utf8 = tmp / f"{source.name}.{path.name}.utf8.csv"
            utf8.write_text(decode(path.read_bytes(), source.encoding), encoding="utf-8")
            decoded.append(utf8)
        listing = "[" + ", ".join(_sql_str(p) for p in decoded) + "]"
        return _copy(
            con, f"select * from read_csv({listing}, {csv_options})", target
        ), f"Python decode ({source.encoding}) → UTF-8 file → DuckDB read_csv"
    fmt = "array" if source.format == "json" else "newline_delimited"
    return _copy(con, f"select * from read_json({listing}, format='{fmt}')", target), f"DuckDB read_json ({fmt})"


def run_floor(landing: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    per_source = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect() as con:
        for source in load_catalog().values():
            files = landing_files(source, landing)
            if not files:
                continue
            t0 = time.perf_counter()
            rows, how = floor_source(con, source, files, out, Path(tmp))
            seconds = time.perf_counter() - t0
            per_source[source.name] = {
                "files": len(files),
                "rows": rows,
                "seconds": round(seconds, 3),
                "rows_per_second": round(rows / seconds) if seconds else None,
                "bytes": sum(p.stat().st_size for p in files),
                "how": how,
            }
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "sources": per_source,
        "rows": sum(s["rows"] for s in per_source.values()),
    }


if __name__ == "__main__":
    landing_dir, out_dir, result_json = map(Path, sys.argv[1:4])
    result_json.write_text(json.dumps(run_floor(landing_dir, out_dir), indent=2))

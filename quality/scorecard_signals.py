"""Gather the scorecard's signals from the lake: Delta tables (lazy polars scans), the results table, the
quarantine, the dbt manifest (lineage to marts) and the published exports. Formulas live in `quality.scorecard`."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from ingestion import build_state, reference
from ingestion.catalog import Column, Source
from ingestion.duckdb_delta import appended_files
from ingestion.lake import PROJECT_ROOT, Lake
from quality.batch import BATCH, REPLACED, WHOLE_TABLE
from quality.results import QualityPaths, read_results
from quality.scorecard import BASELINE_DAYS, DatasetSignals
from quality.suites import semantic_kind

MANIFEST = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"
DBT_PROJECT = "thai_nguyen_warehouse"
# Master data a column must resolve to, by contract column name → loader of the known values.
MASTER_DATA = {
    "agency_code": lambda lake: set(
        pl.read_csv(reference.SEEDS_DIR / "ref_agencies.csv", infer_schema_length=0)["agency_code"]
    ),
}
CITIZEN_REGISTRY = "citizens"


def _is_delta(path: Path) -> bool:
    return DeltaTable.is_deltatable(str(path))


@lru_cache
def resolvable_commune_codes() -> frozenset[str]:
    """Codes that resolve to a current unit: current codes, and pre-2025 codes the official mapping carries over."""
    mapping = pl.read_csv(reference.SEEDS_DIR / "ref_commune_mapping_2025.csv", infer_schema_length=0)
    return frozenset(reference.current_units()["commune_code"].to_list()) | frozenset(mapping["old_commune_code"])


@lru_cache(maxsize=2)
def _registry_cccd(path: str, version: int) -> pl.Series:
    """The population registry's CCCDs as one Series, read once per registry version (not once per column)."""
    return pl.scan_delta(path).select("cccd").collect()["cccd"]


def _checked_against_registry(source: Source, column: Column) -> bool:
    return semantic_kind(column) == "cccd" and source.name != CITIZEN_REGISTRY


def _master_values(
    lake: Lake, source: Source, column: Column, batch: pl.LazyFrame | None
) -> set[str] | pl.Series | None:
    if column.name in MASTER_DATA:
        return MASTER_DATA[column.name](lake)
    registry = lake.silver(CITIZEN_REGISTRY)
    if not _checked_against_registry(source, column) or (version := _delta_version(registry)) is None:
        return None
    if batch is None:
        return _registry_cccd(str(registry), version)
    # A batch's values are far fewer than the registry's 2.19 M CCCDs: look those up instead of hashing the registry.
    values = batch.select(pl.col(column.name).cast(pl.String).drop_nulls().unique()).collect().to_series()
    return pl.scan_delta(str(registry)).select("cccd").filter(pl.col("cccd").is_in(values.implode())).collect()["cccd"]


def _unified(lake: Lake, source: Source, silver: pl.LazyFrame, batch: bool) -> tuple[int, int]:
    """(values that should resolve to master data, values that do) in `silver`: the whole table, or a `batch` of it."""
    checks = []
    for column in source.columns:
        known = (
            resolvable_commune_codes()
            if column.reference == "commune"
            else _master_values(lake, source, column, silver if batch else None)
        )
        if known is not None:  # a Series: no Python list of millions of values to convert per column
            checks.append(
                (column.name, known if isinstance(known, pl.Series) else pl.Series(sorted(known), dtype=pl.String))
            )
    if not checks:
        return 0, 0
    totals = (
        silver.select(
            *[pl.col(name).is_not_null().sum().alias(f"n_{i}") for i, (name, _) in enumerate(checks)],
            *[
                pl.col(name).cast(pl.String).is_in(known.implode()).sum().alias(f"ok_{i}")
                for i, (name, known) in enumerate(checks)
            ],
        )
        .collect()
        .row(0, named=True)
    )
    return (sum(totals[f"n_{i}"] for i in range(len(checks))), sum(totals[f"ok_{i}"] for i in range(len(checks))))


def _descendants(manifest: dict, node: str) -> set[str]:
    seen, stack = set(), [node]
    while stack:
        for child in manifest.get("child_map", {}).get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def _sharing(lake: Lake, source: Source, manifest: dict | None) -> tuple[bool, bool]:
    """(feeds a warehouse mart, one of those marts is published under lake/published/)."""
    if not manifest:
        return False, False
    marts = [
        manifest["nodes"][n]
        for n in _descendants(manifest, f"source.{DBT_PROJECT}.silver.{source.name}")
        if n in manifest["nodes"]
        and manifest["nodes"][n]["resource_type"] == "model"
        and manifest["nodes"][n].get("schema") == "marts"
    ]
    # `published/<mart>` assets write lake/published/mart=<name>/ once the mart's gates pass
    published = any((lake.published / f"mart={m['name']}" / "data_0.parquet").exists() for m in marts)
    return bool(marts), published


def covering_runs(results: pl.DataFrame) -> pl.DataFrame:
    """The validations that together cover one suite's table once: its latest whole-table validation, then the
    chain of batch validations after it, each starting where the previous one's rows end (a failed batch is
    covered by the later validation that validated it again). Rows of `results` for one suite in, those runs out."""
    runs = (
        results.filter(pl.col("scope") != REPLACED)
        .group_by("run_id", "validated_at")
        .agg(pl.col("scope").first(), pl.col("covered_until").first(), pl.col("batch_since").first())
        .sort("validated_at")
    )
    whole = runs.filter(pl.col("scope") == WHOLE_TABLE)
    if whole.is_empty():
        return results.clear()
    base = whole.row(-1, named=True)
    chosen, until = [base["run_id"]], base["covered_until"]
    later = runs.filter((pl.col("scope") == BATCH) & (pl.col("validated_at") > base["validated_at"]))
    while until is not None:
        following = later.filter(pl.col("batch_since") == until)
        if following.is_empty():
            break
        step = following.row(-1, named=True)  # the latest validation starting there covers the most rows
        chosen.append(step["run_id"])
        until = step["covered_until"]
    return results.filter(pl.col("run_id").is_in(chosen))


def _validity(results: pl.DataFrame, dataset: str) -> tuple[int, int]:
    """(values checked, values valid) by the validity rules of the dataset's bronze and silver suites over the whole
    table: summed over the validations that cover it once (`covering_runs`). A rule and its warning twin check the
    same values: counted once. Nulls are not checked. The rows an upsert batch replaced are subtracted as they were
    validated before it (scope 'replaced')."""
    layers = pl.col("layer").is_in(["bronze", "silver"])
    mine = results.filter((pl.col("dataset") == dataset) & layers & (pl.col("dimension") == "validity"))
    covering = [covering_runs(mine.filter(pl.col("suite") == suite)) for suite in mine["suite"].unique().sort()]
    if not covering:
        return 0, 0
    sign = pl.when(pl.col("scope") == REPLACED).then(-1).otherwise(1)  # rows an upsert batch replaced: taken out
    counts = (
        pl.concat(covering)
        .filter(pl.col("element_count").is_not_null())
        .unique(["run_id", "suite", "scope", "expectation", "column"], keep="first")
        .select(
            checked=(sign * (pl.col("element_count") - pl.col("missing_count").fill_null(0))).sum(),
            invalid=(sign * pl.col("unexpected_count").fill_null(0)).sum(),
        )
        .row(0, named=True)
    )
    checked = int(counts["checked"] or 0)
    return checked, checked - int(counts["invalid"] or 0)


def _expected_rows(history: pl.DataFrame | None, dataset: str, day: date) -> int | None:
    if history is None or history.is_empty():
        return None
    window = history.filter(
        (pl.col("dataset") == dataset) & (pl.col("day") < day) & (pl.col("day") >= day - timedelta(days=BASELINE_DAYS))
    )
    return None if window.is_empty() else int(window["rows"].max())


TABLE_SIGNALS = "scorecard.{}"  # build-state object: a dataset's table signals and the versions they were read at
TABLE_SIGNALS_VERSION = "2"  # raise when what `_table_signals` counts changes
BRONZE_SIGNALS = ("bronze_rows", "duplicate_rows", "required_cells", "required_filled", "newest_data_at")
SILVER_SIGNALS = ("rows", "resolvable_values", "resolved_values")


def gather(
    lake: Lake, catalog: dict[str, Source], as_of: datetime, history: pl.DataFrame | None = None
) -> list[DatasetSignals]:
    results = read_results(lake)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else None
    quarantined = _quarantined_rows(lake)
    recorded = build_state.read_all(lake)
    registry = _delta_version(lake.silver(CITIZEN_REGISTRY))
    signals, recomputed = [], []
    for source in catalog.values():
        base = {
            "dataset": source.name,
            "department": source.department,
            "day": as_of.date(),
            "as_of": as_of,
            "freshness_hours": float(source.freshness_hours),
            "quarantined_rows": quarantined.get(source.name, 0),
        }
        validity_run, validity_passed = _validity(results, source.name)
        in_mart, published = _sharing(lake, source, manifest)
        base.update(
            validity_run=validity_run,
            validity_passed=validity_passed,
            in_mart=in_mart,
            published=published,
            expected_rows=_expected_rows(history, source.name, as_of.date()),
        )
        opened = _open_tables(lake, source)
        fingerprint = _tables_fingerprint(opened, source)
        versions = _read_versions(opened, source, registry)
        memo = recorded.get(TABLE_SIGNALS.format(source.name))
        known = memo is not None and memo.fingerprint == fingerprint and memo.watermark is not None
        seen = json.loads(memo.watermark) if known else {}
        if known and seen == versions:
            tables = json.loads(memo.built_from)
        else:
            before = json.loads(memo.built_from) if known else None
            tables, whole = _table_signals(lake, source, opened, before, seen, versions)
            recomputed.append(
                {
                    "object": TABLE_SIGNALS.format(source.name),
                    "built_from": tables,
                    "fingerprint": fingerprint,
                    "watermark": json.dumps(versions, sort_keys=True),
                    "whole": whole,
                }
            )
        if tables.get("newest_data_at"):
            tables = {**tables, "newest_data_at": datetime.fromisoformat(tables["newest_data_at"])}
        signals.append(DatasetSignals(**base, **tables))
    build_state.record_many(lake, recomputed)
    return signals


def _open_tables(lake: Lake, source: Source) -> dict[str, DeltaTable | None]:
    """A dataset's bronze and silver Delta tables, opened once for its fingerprint, versions and signals."""
    paths = {"bronze": lake.bronze(source.name), "silver": lake.silver(source.name)}
    return {layer: DeltaTable(str(path)) if _is_delta(path) else None for layer, path in paths.items()}


def _read_versions(tables: dict[str, DeltaTable | None], source: Source, registry: int | None) -> dict[str, int | None]:
    """The Delta versions a dataset's table signals were read at (its watermark): bronze, silver, and `registry`'s
    when its CCCDs resolve against the population registry."""
    return {
        **{layer: table.version() if table is not None else None for layer, table in tables.items()},
        "registry": registry if any(_checked_against_registry(source, c) for c in source.columns) else None,
    }


def _tables_fingerprint(tables: dict[str, DeltaTable | None], source: Source) -> str:
    """What a dataset's table signals mean: its contract, its tables' schemas and the reference data. With the same
    fingerprint, the signals in the state store are kept and only rows appended since their versions are read (a
    nightly run changes 3 of 13 datasets, and appends a day to those)."""
    schemas = [str(table.schema()) if table is not None else None for table in tables.values()]
    content = json.dumps([TABLE_SIGNALS_VERSION, schemas, repr(source), _reference_digest()], default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def _delta_version(path: Path) -> int | None:
    return DeltaTable(str(path)).version() if _is_delta(path) else None


@lru_cache(maxsize=1)
def _reference_digest() -> str:
    seeds = sorted(reference.SEEDS_DIR.glob("*.csv"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in seeds)).hexdigest()


def _quarantined_rows(lake: Lake) -> dict[str, int]:
    if not _is_delta(lake.quarantine):
        return {}
    counts = pl.scan_delta(str(lake.quarantine)).group_by("source").len().collect()
    return dict(zip(counts["source"], counts["len"]))


def _table_signals(
    lake: Lake, source: Source, tables: dict[str, DeltaTable | None], before: dict | None, seen: dict, versions: dict
) -> tuple[dict, bool]:
    """What the dataset's bronze and silver `tables` say at their `versions` (JSON-ready: it is kept in the state
    store), and whether both were read whole. `before` holds the signals at the versions `seen`: a table only appended
    to since is read for its new files only (silver whole when its values resolved against another registry version)."""
    silver_before = before if seen.get("registry") == versions["registry"] else None
    signals, whole = {}, True
    for layer, known, read_signals in (("bronze", before, _bronze_signals), ("silver", silver_before, _silver_signals)):
        table = tables[layer]
        if table is None:
            continue
        added = appended_files(table, seen[layer]) if known is not None and seen.get(layer) is not None else None
        signals.update(read_signals(lake, source, table, added, known))
        whole = whole and added is None
    return signals, whole


def _scan_files(table: DeltaTable, files: list[str]) -> pl.LazyFrame:
    """Some of a table's files with the table's schema (a file older than an optional column gets it as null)."""
    schema = pl.from_arrow(pa.schema(table.schema().to_arrow()).empty_table()).schema
    return pl.scan_parquet(files, schema=schema, missing_columns="insert") if files else pl.LazyFrame(schema=schema)


def _bronze_counts(bronze: pl.LazyFrame, source: Source) -> dict:
    required = [c.name for c in source.columns if c.required]
    filled = [(pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "")).sum().alias(c) for c in required]
    # One scan: counts, fill and distinct rows together. Distinct rows are counted by their 64-bit hash
    # (2.7x faster than comparing the row structs on 5 M rows); a collision would count one duplicate too
    # many, with odds of ~1e-6 at province scale: nothing a percentage score can show.
    stats = (
        bronze.select(
            pl.len().alias("_rows"),
            pl.col("_ingested_at").max().alias("_newest"),
            pl.struct(source.column_names).hash().n_unique().alias("_distinct"),
            *filled,
        )
        .collect()
        .row(0, named=True)
    )
    return {
        "bronze_rows": stats["_rows"],
        "duplicate_rows": stats["_rows"] - stats["_distinct"],
        "required_cells": stats["_rows"] * len(required),
        "required_filled": sum(stats[c] for c in required),
        "newest_data_at": stats["_newest"].isoformat() if stats["_newest"] else None,
    }


def _bronze_signals(lake: Lake, source: Source, table: DeltaTable, added: list | None, before: dict | None) -> dict:
    """Rows, duplicates, required cells filled and the newest ingest time: of the whole table (`added` None), or
    `before` plus what the `added` files change."""
    if added is None:
        return _bronze_counts(pl.scan_delta(table), source)
    if not added:
        return {name: before[name] for name in BRONZE_SIGNALS}
    appended, added_uris = _scan_files(table, added), set(added)
    new = _bronze_counts(appended, source)
    old = _scan_files(table, [uri for uri in table.file_uris() if uri not in added_uris])
    distinct = _distinct_added(old, appended, source.column_names)
    times = [t for t in (before["newest_data_at"], new["newest_data_at"]) if t]
    return {
        "bronze_rows": before["bronze_rows"] + new["bronze_rows"],
        "duplicate_rows": before["duplicate_rows"] + new["bronze_rows"] - distinct,
        "required_cells": before["required_cells"] + new["required_cells"],
        "required_filled": before["required_filled"] + new["required_filled"],
        "newest_data_at": max(times, key=datetime.fromisoformat, default=None),
    }


def _distinct_added(old: pl.LazyFrame, new: pl.LazyFrame, columns: list[str]) -> int:
    """Distinct rows of `new` that `old` does not have, without hashing every old row: an old row equal to a new one
    has the same value in the column where the new rows differ most, so only the old rows sharing one of its values
    are compared (by row hash, as the whole count does)."""
    fresh = new.select(columns).collect()
    key = max(columns, key=lambda name: fresh[name].n_unique())
    shares = pl.col(key).is_in(fresh[key].drop_nulls().unique().implode())
    if fresh[key].null_count():
        shares = shares | pl.col(key).is_null()
    known = old.filter(shares).select(pl.struct(columns).hash()).collect().to_series()
    return pl.concat([known, fresh.select(pl.struct(columns).hash()).to_series()]).n_unique() - known.n_unique()


def _silver_signals(lake: Lake, source: Source, table: DeltaTable, added: list | None, before: dict | None) -> dict:
    """Rows and values resolving to master data: of the whole table (`added` None), or `before` plus the `added`
    files'."""
    silver = pl.scan_delta(table) if added is None else _scan_files(table, added)
    resolving = _unified(lake, source, silver, batch=added is not None)
    counts = dict(zip(SILVER_SIGNALS, (silver.select(pl.len()).collect().item(), *resolving)))
    return counts if added is None else {name: before[name] + counts[name] for name in SILVER_SIGNALS}


def read_history(lake: Lake) -> pl.DataFrame | None:
    path = QualityPaths.of(lake).scorecard
    return pl.read_delta(str(path)) if _is_delta(path) else None


def refresh_scorecard(lake: Lake, catalog: dict[str, Source], as_of: datetime) -> pl.DataFrame:
    """Score every dataset as of now, replace today's rows in lake/quality/scorecard_daily (Delta, one row per
    dataset and day, so trends show), and copy the history, the department roll-up and the validation results
    into the analysts' DuckDB file (schema `quality`). Opens the DuckDB file once, writes, closes."""
    import duckdb
    from deltalake import write_deltalake

    from quality.scorecard import by_department, scorecard

    path = QualityPaths.of(lake).scorecard
    card = scorecard(gather(lake, catalog, as_of, history=read_history(lake)))
    if _is_delta(path):
        write_deltalake(str(path), card.to_arrow(), mode="overwrite", predicate=f"day = '{as_of.date().isoformat()}'")
    else:
        write_deltalake(str(path), card.to_arrow(), mode="append")
    history = pl.read_delta(str(path)).sort("day", "department", "dataset")
    tables = {
        "scorecard_daily": history,
        "scorecard_department_daily": by_department(history),
        "validation_results": read_results(lake),
    }
    with duckdb.connect(str(lake.warehouse)) as con:
        con.execute("create schema if not exists quality")
        for name, frame in tables.items():
            con.register("_frame", frame.to_arrow())
            con.execute(f"create or replace table quality.{name} as select * from _frame")
            con.unregister("_frame")
    return card

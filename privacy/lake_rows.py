"""A person's rows in the Delta layers (bronze, silver, quarantine): found, read and deleted, with the ingestion
log's counts kept in step so every reconciliation still adds up after rows leave.

A row belongs to the person when one of its source's identifying personal columns (a `pii: true` CCCD or phone
column of the contract) holds one of the person's identifiers; a quarantined row when its record text holds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from ingestion.catalog import Source, load_catalog
from ingestion.duckdb_delta import quoted, sql_string
from ingestion.lake import Lake


def identifying_columns(source: Source) -> list[str]:
    """Personal columns that name one person on their own: CCCDs and phone numbers."""
    return [c.name for c in source.columns if c.pii and ("cccd" in c.name or "phone" in c.name)]


def _exists(lake: Lake, path) -> bool:
    return DeltaTable.is_deltatable(str(path), lake.storage_options_for(path) or None)


def _scan(lake: Lake, path) -> pl.LazyFrame:
    return pl.scan_delta(str(path), storage_options=lake.storage_options_for(path) or None)


def _row_filter(columns: list[str], values: tuple[str, ...], present: set[str]) -> pl.Expr | None:
    conditions = [pl.col(c).str.strip_chars().is_in(list(values)) for c in columns if c in present]
    return pl.any_horizontal(conditions).fill_null(False) if conditions else None


def _sql_predicate(columns: list[str], values: tuple[str, ...], present: set[str]) -> str:
    listed = ", ".join(sql_string(v) for v in values)
    return " OR ".join(f"trim({quoted(c)}) IN ({listed})" for c in columns if c in present)


def _quarantine_filter(values: tuple[str, ...]) -> pl.Expr:
    return pl.any_horizontal(pl.col("record").str.contains(v, literal=True) for v in values).fill_null(False)


@dataclass(frozen=True)
class PersonRows:
    layer: str  # bronze | silver | quarantine
    table: str  # e.g. silver/dossiers
    source: str
    rows: pl.DataFrame


def find_person_rows(lake: Lake, values: tuple[str, ...]) -> list[PersonRows]:
    """Every bronze, silver and quarantine row holding one of `values` (CCCD, phones) in an identifying column."""
    found = []
    for name, source in load_catalog().items():
        columns = identifying_columns(source)
        if not columns:
            continue
        for layer, path in (("bronze", lake.bronze(name)), ("silver", lake.silver(name))):
            if not _exists(lake, path):
                continue
            scan = _scan(lake, path)
            condition = _row_filter(columns, values, set(scan.collect_schema().names()))
            if condition is not None:
                rows = scan.filter(condition).collect()
                if rows.height:
                    found.append(PersonRows(layer, f"{layer}/{name}", name, rows))
    if _exists(lake, lake.quarantine):
        rows = _scan(lake, lake.quarantine).filter(_quarantine_filter(values)).collect()
        for (name,), part in rows.group_by(["source"], maintain_order=True):
            found.append(PersonRows("quarantine", "quarantine", name, part))
    return found


@dataclass
class Removed:
    table: str
    rows: int
    versions_before: int = 0
    files_vacuumed: int = 0


def delete_person_rows(lake: Lake, values: tuple[str, ...], found: list[PersonRows]) -> list[Removed]:
    """Delete the rows `found` holds (found before, so the log can be adjusted), vacuum every old file of the
    changed tables (time travel must not return the rows) and correct the ingestion log."""
    removed = []
    for name, source in load_catalog().items():
        columns = identifying_columns(source)
        for layer, path in (("bronze", lake.bronze(name)), ("silver", lake.silver(name))):
            if any(f.table == f"{layer}/{name}" for f in found):
                table = DeltaTable(str(path), storage_options=lake.storage_options_for(path) or None)
                present = {f.name for f in table.schema().fields}
                metrics = table.delete(_sql_predicate(columns, values, present))
                removed.append(Removed(f"{layer}/{name}", int(metrics.get("num_deleted_rows", 0))))
    quarantined = [f for f in found if f.layer == "quarantine"]
    if quarantined:
        table = DeltaTable(str(lake.quarantine), storage_options=lake.storage_options_for(lake.quarantine) or None)
        contains = " OR ".join(f"record LIKE {sql_string('%' + v.replace('%', '') + '%')}" for v in values)
        metrics = table.delete(contains)
        removed.append(Removed("quarantine", int(metrics.get("num_deleted_rows", 0))))
    for outcome in removed:
        path = _path_of(lake, outcome.table)
        outcome.versions_before, outcome.files_vacuumed = forget_history(lake, path)
    adjust_log(lake.ingestion_log, found)
    return removed


def _path_of(lake: Lake, table: str):
    if table == "quarantine":
        return lake.quarantine
    layer, name = table.split("/")
    return lake.bronze(name) if layer == "bronze" else lake.silver(name)


def forget_history(lake: Lake, path) -> tuple[int, int]:
    """Vacuum every file the current version does not need and clean the log: older versions no longer read
    back deleted rows. Returns (versions in the history before, files deleted)."""
    table = DeltaTable(str(path), storage_options=lake.storage_options_for(path) or None)
    versions = len(table.history())
    vacuumed = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    table.cleanup_metadata()
    return versions, len(vacuumed)


def adjust_log(log_path: Path, found: list[PersonRows]) -> None:
    """Take the removed rows out of the ingestion log's counts, per file, so that landed = bronze + quarantined and
    bronze = silver + quarantined + superseded still hold (the rows are gone, not lost)."""
    if not DeltaTable.is_deltatable(str(log_path)):
        return
    log = DeltaTable(str(log_path))
    for name in sorted({f.source for f in found}):
        parts = {f.layer: f.rows for f in found if f.source == name}
        bronze = parts.get("bronze", pl.DataFrame(schema={"_file_hash": pl.String, "_source_file": pl.String}))
        by_hash = bronze.group_by("_file_hash").agg(pl.len().alias("b"), pl.col("_source_file").first())
        silver = parts.get("silver", pl.DataFrame(schema={"_source_file": pl.String}))
        silver_by_file = dict(silver.group_by("_source_file").len().iter_rows())
        quarantine = parts.get("quarantine", pl.DataFrame(schema={"file_hash": pl.String, "stage": pl.String}))
        contract = quarantine.filter(pl.col("stage") == "contract")
        quarantined = dict(contract.group_by("file_hash").len().iter_rows())
        for digest, b, file in by_hash.iter_rows():
            s, q = silver_by_file.get(file, 0), quarantined.get(digest, 0)
            where = f"source = {sql_string(name)} AND file_hash = {sql_string(digest)}"
            log.update(
                updates={"landed_rows": f"landed_rows - {b}", "bronze_rows": f"bronze_rows - {b}"},
                predicate=f"{where} AND stage = 'bronze'",
            )
            log.update(
                updates={
                    "bronze_rows": f"bronze_rows - {b}",
                    "silver_rows": f"silver_rows - {s}",
                    "quarantined_rows": f"quarantined_rows - {q}",
                    "superseded_rows": f"superseded_rows - {b - s - q}",
                },
                predicate=f"{where} AND stage = 'silver'",
            )

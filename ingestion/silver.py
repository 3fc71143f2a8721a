"""Silver: bronze rows typed, normalised and checked against the contract; the rest go to quarantine.

Every bronze row ends in exactly one place: silver, quarantine (with the rule it broke), or superseded by a
later row with the same primary key. Silver is rebuilt from bronze, so a re-run gives the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from deltalake import DeltaTable, write_deltalake

from ingestion.bronze import LINEAGE_COLUMNS
from ingestion.catalog import Column, Source

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")
EXCEL_EPOCH = pl.date(1899, 12, 30)


@dataclass
class SilverBuild:
    bronze_rows: int
    silver_rows: int
    quarantined_rows: int
    superseded_rows: int
    reasons: dict[str, int]


def _clean_text(name: str) -> pl.Expr:
    """NFC, trimmed, and empty → null: the same value always compares equal downstream."""
    text = pl.col(name).str.normalize("NFC").str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def _typed(column: Column) -> pl.Expr:
    raw = pl.col(column.name)
    if column.type == "date":
        serial = raw.cast(pl.Int32, strict=False)
        candidates = [raw.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS]
        candidates.append(pl.when(serial.is_between(1, 80_000)).then(EXCEL_EPOCH + pl.duration(days=serial)))
        return pl.coalesce(candidates)
    if column.type == "integer":
        return raw.str.replace_all(r"[.\s]", "").cast(pl.Int64, strict=False)
    if column.type == "float":
        return raw.str.replace_all(r"[.\s]", "").str.replace(",", ".").cast(pl.Float64, strict=False)
    return raw


def _violations(column: Column) -> list[pl.Expr]:
    """One expression per contract rule, each null where the rule holds and a readable reason where not."""
    raw, typed, name = pl.col(column.name), pl.col(f"__typed_{column.name}"), column.name
    shown = pl.lit("'") + raw + pl.lit("'")
    rules = []
    if column.required:
        rules.append(pl.when(raw.is_null()).then(pl.lit(f"{name}: required value missing")))
    if column.type != "string":
        rules.append(pl.when(raw.is_not_null() & typed.is_null())
                     .then(pl.lit(f"{name}: not a valid {column.type} ") + shown))
    if column.pattern:
        rules.append(pl.when(raw.is_not_null() & ~raw.str.contains(column.pattern))
                     .then(pl.lit(f"{name}: ") + shown + pl.lit(f" does not match {column.pattern}")))
    if column.allowed:
        rules.append(pl.when(raw.is_not_null() & ~raw.is_in(list(column.allowed)))
                     .then(pl.lit(f"{name}: ") + shown + pl.lit(" is not an allowed value")))
    return rules


def _quarantine_rows(source: Source, rejected: pl.DataFrame) -> pl.DataFrame:
    return rejected.select(
        source=pl.lit(source.name),
        source_file="_source_file",
        file_hash="_file_hash",
        row_number="_row_number",
        reason="_reason",
        record=pl.struct(source.column_names).struct.json_encode(),
        ingested_at="_ingested_at",
    )


def write_quarantine(source: Source, rows: pl.DataFrame, table_path: Path) -> None:
    """Replace this source's quarantined rows (other sources' rows are untouched)."""
    if DeltaTable.is_deltatable(str(table_path)):
        write_deltalake(str(table_path), rows.to_arrow(), mode="overwrite",
                        predicate=f"source = '{source.name}'", schema_mode=None)
    else:
        write_deltalake(str(table_path), rows.to_arrow(), mode="append", partition_by=["source"])


def build_silver(source: Source, bronze_path: Path, silver_path: Path, quarantine_path: Path) -> SilverBuild:
    bronze = pl.scan_delta(str(bronze_path)).select(*source.column_names, *LINEAGE_COLUMNS)
    cleaned = bronze.with_columns(_clean_text(c) for c in source.column_names)
    typed = cleaned.with_columns(_typed(c).alias(f"__typed_{c.name}") for c in source.columns)
    rules = [rule for c in source.columns for rule in _violations(c)]
    reason = pl.concat_str(rules, separator="; ", ignore_nulls=True)
    checked = typed.with_columns(_reason=pl.when(reason != "").then(reason)).collect()

    rejected = checked.filter(pl.col("_reason").is_not_null())
    accepted = checked.filter(pl.col("_reason").is_null())
    latest_first = ["_ingested_at", "_source_file", "_row_number"]
    silver = (
        accepted.sort(latest_first, descending=True)
        .unique(list(source.primary_key), keep="first", maintain_order=True)
        .sort(list(source.primary_key))
        .select(
            *[pl.col(f"__typed_{c.name}").alias(c.name) for c in source.columns],
            "_source_file", "_row_number", "_ingested_at",
        )
    )
    write_deltalake(str(silver_path), silver.to_arrow(), mode="overwrite", schema_mode="overwrite")
    write_quarantine(source, _quarantine_rows(source, rejected), quarantine_path)

    reasons = (
        rejected.select(pl.col("_reason").str.split("; ").explode().str.replace_all(r"'[^']*'", "<value>").alias("rule"))
        .group_by("rule").len().sort("rule")
    )
    return SilverBuild(
        bronze_rows=checked.height,
        silver_rows=silver.height,
        quarantined_rows=rejected.height,
        superseded_rows=accepted.height - silver.height,
        reasons=dict(zip(reasons["rule"], reasons["len"])),
    )

"""Build the analysts' shared marts file from the restricted warehouse, atomically.

One DuckDB connection to a new file under a temporary name ATTACHes the warehouse READ_ONLY (so dbt or the
scorecard can never meet a writer here) and copies each configured table with `CREATE TABLE … AS SELECT`,
pseudonymising, masking, generalising and suppressing in the same SQL. The result is scanned for personal data;
only a clean file is renamed over `lake/shared_marts.duckdb` (os.replace: analysts see the old file or the new one,
never half of one; a connection already open keeps reading the old one).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ingestion.catalog import load_catalog
from ingestion.duckdb_delta import quoted
from ingestion.lake import Lake
from orchestration.sharing.config import ColumnRule, SharedTable, SharingConfig
from orchestration.sharing.pii_scan import Needles, ScanReport, scan
from orchestration.sharing.pseudonym import bind_key, mask_phone_sql, pseudonym_sql

WAREHOUSE_ALIAS = "wh"
SUPPRESSED_FLAG = "small_cell_suppressed"
LOOKS_PERSONAL = re.compile(r"(^|_)(cccd|cmnd|phone|email|address|date_of_birth|dob)($|_)"
                            r"|^((applicant|reporter|patient|student|citizen|owner|legal_rep|person)_)?full_name$")
# Where the population's names and identifiers are, for the scan (first that exists).
NEEDLE_SOURCES = ("conformed.dim_citizen", "staging.stg_citizens", "silver.citizens")


class PersonalDataLeak(RuntimeError):
    pass


@dataclass
class TableOutcome:
    name: str
    source: str
    rows: int
    columns: list[dict]
    suppressed_rows: int = 0


@dataclass
class BuildOutcome:
    path: Path
    tables: list[TableOutcome] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # configured tables with no warehouse table
    dropped_unclassified: list[str] = field(default_factory=list)  # personal-looking columns dropped by default
    scan: ScanReport | None = None
    seconds: float = 0.0


def contract_pii_columns() -> set[str]:
    """Column names flagged `pii: true` in any source contract: personal wherever they turn up."""
    return {c.name for source in load_catalog().values() for c in source.columns if c.pii}


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute("select schema_name || '.' || table_name, column_name, data_type from duckdb_columns() "
                       f"where database_name = '{WAREHOUSE_ALIAS}' order by column_index").fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _select_list(table: SharedTable, columns: list[tuple[str, str]], pii: set[str],
                 outcome: BuildOutcome) -> tuple[list[str], list[dict]]:
    exprs, described = [], []
    for column, data_type in columns:
        rule = table.columns.get(column)
        if rule is None and (column in pii or LOOKS_PERSONAL.search(column)):
            outcome.dropped_unclassified.append(f"{table.name}.{column}")
            rule = ColumnRule("drop")
        rule = rule or ColumnRule("keep")
        ref = quoted(column)
        if rule.treatment == "drop":
            continue
        name = rule.rename or column
        expr = {
            "keep": ref,
            "mask_phone": mask_phone_sql(ref),
            "pseudonymise": pseudonym_sql(ref, rule.domain or column),
            "year": f"year({ref})",
        }[rule.treatment]
        exprs.append(f"{expr} as {quoted(name)}")
        described.append({"column": name, "from": column, "treatment": rule.treatment,
                          **({"domain": rule.domain} if rule.domain else {})})
    return exprs, described


def _suppressed(table: SharedTable, inner: str, kept: list[str], threshold: int) -> str:
    """Wrap `inner` so small counts (1..threshold-1) in rows matching `where` become null, with a flag."""
    s = table.suppress
    counts = [c for c in s.counts if c in kept]
    if not counts:
        return inner
    small = " or ".join(f"({quoted(c)} between 1 and {threshold - 1})" for c in counts)
    flag = f"coalesce(({s.where}) and ({small}), false)"
    replaced = {c: f"case when ({s.where}) and {quoted(c)} between 1 and {threshold - 1} then null "
                   f"else {quoted(c)} end as {quoted(c)}" for c in counts}
    replaced |= {c: f"case when {flag} then null else {quoted(c)} end as {quoted(c)}"
                 for c in s.derived if c in kept}
    select = ", ".join(replaced.get(c, quoted(c)) for c in kept)
    return f"select {select}, {flag} as {SUPPRESSED_FLAG} from ({inner})"


def needles_from_warehouse(con: duckdb.DuckDBPyConnection, tables: dict) -> Needles:
    for name in NEEDLE_SOURCES:
        if name in tables:
            cols = {c for c, _ in tables[name]}
            pick = lambda c: f"{quoted(c)}" if c in cols else "null"  # noqa: E731
            frame = con.sql(f"select {pick('full_name')}::varchar as n, {pick('cccd')}::varchar as c, "
                            f"{pick('phone')}::varchar as p from {WAREHOUSE_ALIAS}.{name}").pl()
            return Needles.of(*(frame[c] for c in ("n", "c", "p")))
    return Needles()


def build_shared_file(lake: Lake, config: SharingConfig, key: bytes) -> BuildOutcome:
    """Build lake/shared_marts.duckdb from lake/warehouse.duckdb; raises PersonalDataLeak (and publishes nothing) on a hit."""
    started = time.perf_counter()
    target = lake.shared_marts
    building = target.with_name(f"{target.stem}_building_{os.getpid()}.duckdb")  # own catalog name
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    outcome = BuildOutcome(target)
    pii = contract_pii_columns()
    built_at = datetime.now(timezone.utc)
    try:
        with duckdb.connect(str(building)) as con:
            con.execute(f"attach '{lake.warehouse}' as {WAREHOUSE_ALIAS} (read_only)")
            bind_key(con, key)
            existing = warehouse_tables(con)
            for table in config.tables:
                source = next((s for s in table.sources if s in existing), None)
                if source is None:
                    outcome.skipped.append({"table": table.name, "looked_for": list(table.sources)})
                    continue
                exprs, described = _select_list(table, existing[source], pii, outcome)
                inner = f"select {', '.join(exprs)} from {WAREHOUSE_ALIAS}.{source}"
                if table.suppress:
                    inner = _suppressed(table, inner, [d["column"] for d in described], config.small_cell_threshold)
                con.execute(f"create schema if not exists {table.schema}")
                con.execute(f"create table {table.name} as {inner}")
                rows = con.execute(f"select count(*) from {table.name}").fetchall()[0][0]
                suppressed = 0
                if table.suppress and SUPPRESSED_FLAG in {c for c, in con.execute(
                        f"select column_name from duckdb_columns() where database_name = current_database() "
                        f"and schema_name = '{table.schema}' and table_name = '{table.table}'").fetchall()}:
                    suppressed = con.execute(f"select count(*) from {table.name} where {SUPPRESSED_FLAG}").fetchall()[0][0]
                outcome.tables.append(TableOutcome(table.name, source, rows, described, suppressed))
            _write_about(con, outcome, built_at)
            needles = needles_from_warehouse(con, existing)
            outcome.scan = scan(con, needles)
            con.execute(f"detach {WAREHOUSE_ALIAS}")
            con.execute("checkpoint")
        if outcome.scan.hits:
            raise PersonalDataLeak(f"{target.name} not published: {outcome.scan.summary()}")
        os.replace(building, target)
    finally:
        for leftover in (building, building.with_name(building.name + ".wal")):
            leftover.unlink(missing_ok=True)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _write_about(con: duckdb.DuckDBPyConnection, outcome: BuildOutcome, built_at: datetime) -> None:
    """`sharing.tables` and `sharing.columns`: what is in the file and what was done to each column."""
    con.execute("create schema if not exists sharing")
    con.execute("create table sharing.tables (table_name varchar, source_table varchar, row_count bigint, "
                "small_cell_suppressed_rows bigint, built_at timestamptz)")
    con.executemany("insert into sharing.tables values (?, ?, ?, ?, ?)",
                    [(t.name, t.source, t.rows, t.suppressed_rows, built_at) for t in outcome.tables])
    con.execute("create table sharing.columns (table_name varchar, column_name varchar, source_column varchar, "
                "treatment varchar, pseudonym_domain varchar)")
    con.executemany("insert into sharing.columns values (?, ?, ?, ?, ?)",
                    [(t.name, c["column"], c["from"], c["treatment"], c.get("domain"))
                     for t in outcome.tables for c in t.columns])

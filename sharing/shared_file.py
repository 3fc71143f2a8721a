"""Build the analysts' shared marts file from the restricted warehouse, atomically.

One DuckDB connection to a new file under a temporary name ATTACHes the warehouse READ_ONLY (so dbt or the
scorecard can never meet a writer here) and copies each configured table with `CREATE TABLE … AS SELECT`,
pseudonymising, masking, generalising and suppressing in the same SQL. When the configuration has incremental
record tables, the new file starts as a copy of the published one and those tables get only their changed rows
(incremental_copy.py). The whole result is scanned for personal data;
only a clean file is renamed over `lake/shared_marts.duckdb` (os.replace: analysts see the old file or the new one,
never half of one; a connection already open keeps reading the old one).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion import build_state
from ingestion.build_state import Build
from ingestion.duckdb_delta import quoted
from ingestion.lake import Lake
from privacy.restriction import restricted_hashes, without_restricted
from sharing.config import ColumnRule, SharedTable, SharingConfig
from sharing.incremental_copy import CopyResult, WholeBuildNeeded, copy_table
from sharing.pii_scan import (
    CCCD_RE,
    NEEDLES_CHANGED_SINCE,
    PHONE_RE,
    ScanReport,
    contract_pii_columns,
    needle_source,
    refuse_leaks,
    scan,
    warehouse_needles,
)
from sharing.pii_scan import PersonalDataLeak as PersonalDataLeak  # raised here, callers catch it from here too
from sharing.pseudonym import bind_key, mask_phone_sql, pseudonym_sql

WAREHOUSE_ALIAS = "wh"
SUPPRESSED_FLAG = "small_cell_suppressed"
LOOKS_PERSONAL = re.compile(
    r"(^|_)(cccd|cmnd|phone|email|address|date_of_birth|dob)($|_)"
    r"|^((applicant|reporter|patient|student|citizen|owner|legal_rep|person)_)?full_name$"
)
SCAN_STATE = "shared.pii_scan"  # build-state row: the needles the published file's rows were last checked against
SCAN_VERSION = "1"  # raise when the scan's rules change: the next scan checks every row again


@dataclass
class TableOutcome:
    name: str
    source: str
    rows: int
    columns: list[dict]
    suppressed_rows: int = 0
    copy: CopyResult | None = None  # whole or incremental, and why


@dataclass
class BuildOutcome:
    path: Path
    tables: list[TableOutcome] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # configured tables with no warehouse table
    dropped_unclassified: list[str] = field(default_factory=list)  # personal-looking columns dropped by default
    scan: ScanReport | None = None
    scan_state: dict | None = None  # what to record once the file is published (the needles' source and watermark)
    seconds: float = 0.0


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select schema_name || '.' || table_name, column_name, data_type from duckdb_columns() "
        f"where database_name = '{WAREHOUSE_ALIAS}' order by column_index"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _select_list(
    table: SharedTable, columns: list[tuple[str, str]], pii: frozenset[str], outcome: BuildOutcome
) -> tuple[list[str], list[dict]]:
    exprs, described = [], []
    for column, _data_type in columns:
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
        described.append(
            {
                "column": name,
                "from": column,
                "treatment": rule.treatment,
                **({"domain": rule.domain} if rule.domain else {}),
            }
        )
    return exprs, described


def _suppressed(table: SharedTable, inner: str, kept: list[str], threshold: int) -> str:
    """Wrap `inner` so small counts (1..threshold-1) in rows matching `where` become null, with a flag."""
    s = table.suppress
    counts = [c for c in s.counts if c in kept]
    if not counts:
        return inner
    small = " or ".join(f"({quoted(c)} between 1 and {threshold - 1})" for c in counts)
    flag = f"coalesce(({s.where}) and ({small}), false)"
    replaced = {
        c: f"case when ({s.where}) and {quoted(c)} between 1 and {threshold - 1} then null "
        f"else {quoted(c)} end as {quoted(c)}"
        for c in counts
    }
    replaced |= {c: f"case when {flag} then null else {quoted(c)} end as {quoted(c)}" for c in s.derived if c in kept}
    select = ", ".join(replaced.get(c, quoted(c)) for c in kept)
    return f"select {select}, {flag} as {SUPPRESSED_FLAG} from ({inner})"


def build_shared_file(lake: Lake, config: SharingConfig, key: bytes) -> BuildOutcome:
    """Build lake/shared_marts.duckdb from lake/warehouse.duckdb; raises PersonalDataLeak (and publishes nothing) on a
    hit."""
    started = time.perf_counter()
    target = lake.shared_marts
    building = target.with_name(f"{target.stem}_building_{os.getpid()}.duckdb")  # own catalog name
    leftovers = (building, building.with_name(building.name + ".wal"))
    built_at = datetime.now(UTC)
    states = build_state.read_all(lake)
    try:
        outcome = None
        if any(t.incremental for t in config.tables) and target.exists():
            shutil.copyfile(target, building)  # incremental tables start from their published rows
            try:
                outcome = _build_into(building, lake, config, key, built_at, states, from_published=True)
            except WholeBuildNeeded as needed:  # a whole table belongs in a fresh file, not beside freed pages
                why_fresh = str(needed)
            except duckdb.Error as unusable:  # e.g. a damaged file: the fresh build still fails on a real problem
                why_fresh = f"the published file could not be updated ({unusable})"
        else:
            why_fresh = "no published file to update"
        if outcome is None:
            for leftover in leftovers:
                leftover.unlink(missing_ok=True)
            outcome = _build_into(
                building, lake, config, key, built_at, states, from_published=False, why_fresh=why_fresh
            )
        refuse_leaks(outcome.scan, target.name)
        os.replace(building, target)
    finally:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
    _record_builds(lake, outcome, built_at)
    outcome.seconds = time.perf_counter() - started
    return outcome


def state_object(table: str) -> str:
    """The build-state row of a shared table."""
    return f"shared.{table}"


def _relations(reads: str) -> list[str]:
    """The relations named in a `relation_state` text (its lines `schema.name=…`), for a person to read."""
    return sorted({m.group(1) for m in re.finditer(r"^([A-Za-z_]\w*\.[A-Za-z_]\w*)=", reads, re.M)})


def _record_builds(lake: Lake, outcome: BuildOutcome, built_at: datetime) -> None:
    """The incremental tables' and the scan's state, recorded only now that the file it describes is the published
    one."""
    builds = [
        {
            "object": state_object(t.name),
            "built_from": {"source": f"warehouse.{t.source}", "rows": t.rows, "reads": _relations(t.copy.reads)},
            "fingerprint": t.copy.fingerprint,
            "watermark": t.copy.watermark,
            "whole": t.copy.mode == "whole",
            "built_at": built_at,
        }
        for t in outcome.tables
        if t.copy.tracked
    ]
    if (scanned := outcome.scan_state) is not None:
        builds.append(
            {
                "object": SCAN_STATE,
                "built_from": {"needles": scanned["needles"], "scanned": scanned["scanned"]},
                "fingerprint": scanned["fingerprint"],
                "watermark": scanned["watermark"],
                "whole": scanned["scanned"].startswith("every row"),
                "built_at": built_at,
            }
        )
    build_state.record_many(lake, builds)


def _build_into(
    building: Path,
    lake: Lake,
    config: SharingConfig,
    key: bytes,
    built_at: datetime,
    states: dict[str, Build],
    *,
    from_published: bool,
    why_fresh: str = "",
) -> BuildOutcome:
    """Fill `building` (a copy of the published file, or new) and scan it; incremental tables go first, so a copy
    that cannot be updated is given up before the other tables are written."""
    outcome = BuildOutcome(lake.shared_marts)
    pii = contract_pii_columns()
    with duckdb.connect(str(building)) as con:
        con.execute(f"attach '{lake.warehouse}' as {WAREHOUSE_ALIAS} (read_only)")
        bind_key(con, key)
        existing = warehouse_tables(con)
        restricted = restricted_hashes(lake.root)  # persons who asked to restrict processing: not shared
        published_built_at = _published_built_at(con) if from_published else None
        for table in sorted(config.tables, key=lambda t: t.incremental is None):
            source = next((s for s in table.sources if s in existing), None)
            if source is None:
                outcome.skipped.append({"table": table.name, "looked_for": list(table.sources)})
                continue
            exprs, described = _select_list(table, existing[source], pii, outcome)
            con.execute(f"create schema if not exists {table.schema}")
            copied = _copy(
                con,
                table,
                source,
                existing[source],
                exprs,
                described,
                config,
                key,
                built_at,
                states,
                published_built_at,
                from_published=from_published,
                why_fresh=why_fresh,
                restricted=restricted,
            )
            suppressed = 0
            if table.suppress and SUPPRESSED_FLAG in {
                c
                for (c,) in con.execute(
                    f"select column_name from duckdb_columns() where database_name = current_database() "
                    f"and schema_name = '{table.schema}' and table_name = '{table.table}'"
                ).fetchall()
            }:
                suppressed = con.execute(f"select count(*) from {table.name} where {SUPPRESSED_FLAG}").fetchall()[0][0]
            outcome.tables.append(TableOutcome(table.name, source, copied.rows, described, suppressed, copied))
        order = [t.name for t in config.tables]
        outcome.tables.sort(key=lambda t: order.index(t.name))
        _drop_unbuilt(con, {t.name for t in outcome.tables})
        _write_about(con, outcome, built_at)
        _scan_file(con, outcome, existing, states.get(SCAN_STATE), published_built_at)
        con.execute(f"detach {WAREHOUSE_ALIAS}")
        con.execute("checkpoint")
    return outcome


def _copy(
    con: duckdb.DuckDBPyConnection,
    table: SharedTable,
    source: str,
    source_columns: list[tuple[str, str]],
    exprs: list[str],
    described: list[dict],
    config: SharingConfig,
    key: bytes,
    built_at: datetime,
    states: dict[str, Build],
    published_built_at: datetime | None,
    *,
    from_published: bool,
    why_fresh: str,
    restricted: list[str],
) -> CopyResult:
    """Create or replace `table` from the warehouse's `source`: its changed rows only where it is incremental."""
    relation = without_restricted(f"{WAREHOUSE_ALIAS}.{source}", described, restricted)
    select = f"select {', '.join(exprs)} from {relation}"
    incremental = table.incremental
    if incremental:
        key_column = next((d["column"] for d in described if d["from"] == incremental.unique_key), None)
        missing = {incremental.unique_key, incremental.changed_since} - {c for c, _ in source_columns}
        if key_column and not missing:
            return copy_table(
                con,
                table.name,
                select,
                database=WAREHOUSE_ALIAS,
                source=source,
                unique_key=key_column,
                changed_since=incremental.changed_since,
                key=key,
                description=repr((table, source, source_columns, select)),
                built_at=built_at,
                from_published=from_published,
                recorded=states.get(state_object(table.name)),
                states=states,
                published_built_at=published_built_at,
                why_fresh=why_fresh,
            )
        why = (
            f"{source} has no {', '.join(sorted(missing))}"
            if missing
            else f"its key {incremental.unique_key} is not shared"
        )
    else:
        why = "not incremental"
    if table.suppress:
        select = _suppressed(table, select, [d["column"] for d in described], config.small_cell_threshold)
    rows = con.execute(f"create or replace table {table.name} as {select}").fetchall()[0][0]
    return CopyResult("whole", why, rows, rows)


def _scan_file(
    con: duckdb.DuckDBPyConnection,
    outcome: BuildOutcome,
    existing: dict,
    recorded: Build | None,
    published_built_at: datetime | None,
) -> None:
    """Scan the file: rows written by this build against every needle; rows kept from the published file, when the
    published file is the one last scanned clean, only against the needles changed since (a new citizen's name or
    number may sit in an old row)."""
    source, dated = needle_source({name: [c for c, _ in columns] for name, columns in existing.items()})
    fingerprint = hashlib.sha256("\x1f".join((SCAN_VERSION, CCCD_RE, PHONE_RE, str(source))).encode()).hexdigest()
    watermark = None
    if source is not None and dated:
        watermark = con.execute(f"select max({NEEDLES_CHANGED_SINCE})::varchar from {WAREHOUSE_ALIAS}.{source}")
        watermark = watermark.fetchall()[0][0]
    old_rows = {t.name: t.copy.old_rows for t in outcome.tables if t.copy.old_rows}
    reusable = (
        recorded is not None
        and recorded.built_at == published_built_at
        and recorded.fingerprint == fingerprint
        and recorded.watermark is not None
        and watermark is not None
    )
    if reusable and old_rows:
        new_needles = warehouse_needles(con, WAREHOUSE_ALIAS, since=recorded.watermark)
        outcome.scan = scan(con, warehouse_needles(con, WAREHOUSE_ALIAS), unchanged=old_rows, new_needles=new_needles)
        mode = f"old rows of {', '.join(sorted(old_rows))} against needles changed since {recorded.watermark}"
        mode += f" ({len(new_needles)})" if new_needles else " (none: old rows not read)"
    else:
        outcome.scan = scan(con, warehouse_needles(con, WAREHOUSE_ALIAS))
        mode = "every row against every needle"
    outcome.scan_state = {"fingerprint": fingerprint, "watermark": watermark, "needles": source, "scanned": mode}


def _published_built_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the published file (this build's starting copy) was built, to match it with the recorded state."""
    try:
        return con.execute("select max(built_at) from sharing.tables").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def _drop_unbuilt(con: duckdb.DuckDBPyConnection, built: set[str]) -> None:
    """What the published file's copy holds that this build did not write: tables no longer configured or sourced,
    and anything else (views), so the file holds exactly what a new one would."""
    objects = con.execute(
        "select 'table', schema_name, table_name from duckdb_tables() where database_name = current_database() "
        "union all select 'view', schema_name, view_name from duckdb_views() "
        "where database_name = current_database() and not internal"
    ).fetchall()
    for kind, schema, name in objects:
        if f"{schema}.{name}" not in built:
            con.execute(f"drop {kind} {quoted(schema)}.{quoted(name)}")


def _write_about(con: duckdb.DuckDBPyConnection, outcome: BuildOutcome, built_at: datetime) -> None:
    """`sharing.tables` and `sharing.columns`: what is in the file and what was done to each column."""
    con.execute("create schema if not exists sharing")
    con.execute(
        "create table sharing.tables (table_name varchar, source_table varchar, row_count bigint, "
        "small_cell_suppressed_rows bigint, built_at timestamptz)"
    )
    con.executemany(
        "insert into sharing.tables values (?, ?, ?, ?, ?)",
        [(t.name, t.source, t.rows, t.suppressed_rows, built_at) for t in outcome.tables],
    )
    con.execute(
        "create table sharing.columns (table_name varchar, column_name varchar, source_column varchar, "
        "treatment varchar, pseudonym_domain varchar)"
    )
    con.executemany(
        "insert into sharing.columns values (?, ?, ?, ?, ?)",
        [(t.name, c["column"], c["from"], c["treatment"], c.get("domain")) for t in outcome.tables for c in t.columns],
    )

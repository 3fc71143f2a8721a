"""Record tables of the shared file updated in place instead of copied whole (`incremental` in shared_marts.yaml).

A nightly refresh touches ~1 % of 5 M dossiers and 2 M citizens, yet copying and pseudonymising every row again took
~9 s of the file's 15 s. The build starts from a copy of the published file; a table whose recorded state still
holds gets only the source rows whose `changed_since` is newer than its watermark, replacing its rows by
`unique_key`. Anything that can change an old row without touching `changed_since` rebuilds the table whole:

- the fingerprint differs: the table's configuration, its select SQL (the treatments), the source and its columns,
  the pseudonym key (the fingerprint is an HMAC), or what the source reads besides its rows (`relation_state`);
- the source was rebuilt whole since (its oldest row is newer than the watermark);
- the last whole build is over a week old (deleted rows leave holes in the file until a rewrite);
- after the update the table's row count differs from the source's (a row deleted at the source);
- the published file is not the one the state was recorded for (its `sharing.tables.built_at` differs).

The state is the table's row `shared.<schema.table>` in the build state (ingestion/build_state.py): fingerprint,
watermark, last whole build. The caller records it only once the file it describes is published.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from ingestion.build_state import Build
from ingestion.duckdb_delta import quoted

WHOLE_BUILD_MAX_AGE = timedelta(days=7)
STATE_VERSION = "1"
_CREATE_VIEW = re.compile(r"^\s*create\s+(or\s+replace\s+)?(temp(orary)?\s+)?view\s+.+?\s+as\s+", re.I | re.S)


class WholeBuildNeeded(Exception):
    """A table of the published file's copy cannot be updated: the caller builds a fresh file instead."""


@dataclass(frozen=True)
class CopyResult:
    mode: str  # whole | incremental
    reason: str  # why whole, or what the update replaced
    rows_written: int
    rows: int  # in the table afterwards
    fingerprint: str | None = None  # the state to record once the file is published (incremental tables only)
    watermark: str | None = None
    reads: str = ""  # what the rows depend on besides the source's, for a person reading the build state
    tracked: bool = False  # an incremental table: its state is recorded once the file is published
    old_rows: str | None = None  # SQL condition on the rows kept from the published file (updated in place only)


def copy_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    select: str,
    *,
    database: str,
    source: str,
    unique_key: str,
    changed_since: str,
    description: str,
    key: bytes,
    built_at: datetime,
    from_published: bool,
    recorded: Build | None,
    states: dict[str, Build],
    published_built_at: datetime | None = None,
    why_fresh: str = "",
) -> CopyResult:
    """Bring shared table `name` (output key column `unique_key`) up to date with `select` from `database`.`source`,
    filtering on the source column `changed_since`; `description` is what the rows depend on besides the source,
    `recorded` the table's last recorded build, `states` every recorded build (what the source reads).
    In a copy of the published file (`from_published`, built at `published_built_at`) a table that needs a whole
    build raises WholeBuildNeeded; in a new file it is built whole, `why_fresh` saying why the file is new."""
    sourced, changed = f"{database}.{source}", quoted(changed_since)
    reads = ""
    try:
        reads = relation_state(con, database, source, states)
        fingerprint = _fingerprint(key, description, reads)
    except ValueError as unknown:  # whole, every time: nothing to compare against
        fingerprint, unknown_reads = None, str(unknown)
    watermark = recorded.watermark if recorded else None
    newest, source_rows, rebuilt_since = con.execute(
        f"select max({changed})::varchar, count(*), coalesce(min({changed}) > ?, true) from {sourced}", [watermark]
    ).fetchall()[0]
    reason = (
        unknown_reads
        if fingerprint is None
        else _why_whole(recorded, fingerprint, rebuilt_since, built_at, published_built_at)
        if from_published
        else why_fresh
    )
    if reason is None:
        written = con.execute(
            f"create or replace temp table shared_delta as {select} where {changed} > ?", [watermark]
        ).fetchall()[0][0]
        con.execute(f"delete from {name} where {quoted(unique_key)} in (select {quoted(unique_key)} from shared_delta)")
        con.execute(f"insert into {name} by name select * from shared_delta")
        # the written keys stay (a temp table, not in the file) for the PII scan to tell old rows from new ones
        written_keys = quoted("written_" + name)
        con.execute(f"create or replace temp table {written_keys} as select {quoted(unique_key)} k from shared_delta")
        con.execute("drop table shared_delta")
        if con.execute(f"select count(*) from {name}").fetchall()[0][0] == source_rows:
            changed_rows = f"{written:,} rows changed since {watermark}"
            old_rows = f"{quoted(unique_key)} not in (select k from temp.main.{written_keys})"
            return CopyResult(
                "incremental", changed_rows, written, source_rows, fingerprint, newest, reads, True, old_rows
            )
        reason = "its row count differs from the source's after the update (rows deleted at the source)"
    if from_published:
        raise WholeBuildNeeded(f"{name}: {reason}")
    rows = con.execute(f"create or replace table {name} as {select}").fetchall()[0][0]
    return CopyResult("whole", reason, rows, rows, fingerprint, newest, reads, True)


def _why_whole(
    recorded: Build | None,
    fingerprint: str,
    rebuilt_since: bool,
    built_at: datetime,
    published_built_at: datetime | None,
) -> str | None:
    if recorded is None or recorded.whole_build_at is None:
        return "no earlier build of this table in the build state"
    if recorded.built_at != published_built_at:
        return "the published file is not the one its build state was recorded for"
    if recorded.fingerprint != fingerprint:
        return "its configuration, treatments, source, key or what the source reads changed"
    if recorded.watermark is None or rebuilt_since:
        return "the source was rebuilt whole (or emptied) since the last build"
    if built_at - recorded.whole_build_at > WHOLE_BUILD_MAX_AGE:
        return f"the last whole build is older than {WHOLE_BUILD_MAX_AGE.days} days"
    return None


def _fingerprint(key: bytes, *parts: str) -> str:
    message = "\x1f".join((STATE_VERSION, *parts)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def relation_state(con: duckdb.DuckDBPyConnection, database: str, relation: str, states: dict[str, Build]) -> str:
    """What a warehouse relation's rows depend on, as text that changes when they may have changed: its row in the
    build state (its fingerprint and last whole build: for silver, its last rewrite), else a view its SQL and the
    state of what it reads, any other table a hash of its content."""
    entry = _catalog_entry(con, database, relation)
    if entry is None:
        raise LookupError(f"{database}.{relation} is not in the warehouse")
    if (recorded := states.get(relation)) is not None:
        return f"{relation}={recorded.fingerprint}:{recorded.whole_build_at}"
    kind, sql = entry
    if kind == "table":
        rows, content = con.execute(f"select count(*), sum(hash(t)::hugeint) from {database}.{relation} t").fetchall()[
            0
        ]
        return f"{relation}={rows}:{content}"
    reads = sorted(_relations_read(con, database, sql))
    return "\n".join([f"{relation}={sql}", *(relation_state(con, database, r, states) for r in reads)])


def _catalog_entry(con: duckdb.DuckDBPyConnection, database: str, relation: str) -> tuple[str, str | None] | None:
    """(kind, view SQL) of `relation` (schema.name) in `database`, None when it is not there."""
    schema, name = relation.split(".")
    found = con.execute(
        "select 'view', sql from duckdb_views() where database_name = $1 and schema_name = $2 "
        "and view_name = $3 union all select 'table', null from duckdb_tables() "
        "where database_name = $1 and schema_name = $2 and table_name = $3",
        [database, schema, name],
    ).fetchall()
    return found[0] if found else None


def _relations_read(con: duckdb.DuckDBPyConnection, database: str, view_sql: str) -> set[str]:
    """The warehouse tables and views a view's SQL names (CTE names resolve to nothing and are skipped)."""
    tree = json.loads(
        con.execute(
            "select json_serialize_sql(?)", [_CREATE_VIEW.sub("", view_sql, count=1).rstrip().rstrip(";")]
        ).fetchall()[0][0]
    )
    if tree.get("error"):
        raise ValueError(f"cannot tell what a view reads: {tree.get('error_message')}")
    named: set[tuple[str, str]] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                named.add((node.get("schema_name") or "main", node["table_name"]))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    existing = set(
        con.execute(
            "select schema_name, view_name from duckdb_views() where database_name = $1 union "
            "select schema_name, table_name from duckdb_tables() where database_name = $1",
            [database],
        ).fetchall()
    )
    return {f"{schema}.{name}" for schema, name in named & existing}

"""Delta tables as DuckDB relations, without copying them when DuckDB can read their files itself.

DuckDB's `delta` extension cannot be installed offline, but a plain Delta table (no partition columns, deletion
vectors or column mapping: what deltalake writes for bronze and silver) is its snapshot's Parquet files, which
DuckDB's own parallel Parquet reader scans in place. Anything else, and tables on object storage (DuckDB's httpfs
cannot be installed offline either), goes through the Arrow dataset that deltalake resolves itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from deltalake import DeltaTable
from deltalake.exceptions import DeltaError


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def parquet_scan_sql(table: DeltaTable) -> str | None:
    """`select <columns> from read_parquet([...])` over the snapshot's files, or None when DuckDB cannot read the
    table that way (partitioned, deletion vectors, column mapping, remote, or empty)."""
    features = set(table.protocol().reader_features or [])
    files = table.file_uris()
    remote = not all(f.startswith(("/", "file:")) for f in files)
    if table.metadata().partition_columns or features & {"deletionVectors", "columnMapping"} or not files or remote:
        return None
    columns = ", ".join(quoted(field.name) for field in table.schema().fields)
    listing = "[" + ", ".join(sql_string(f) for f in files) + "]"
    # union_by_name: files written before a new optional column arrived lack it (NULL there).
    return f"select {columns} from read_parquet({listing}, union_by_name = true)"


def open_delta(path, storage_options: dict | None = None) -> DeltaTable:
    return DeltaTable(str(path), storage_options=storage_options or None)


def register_delta(connection, view: str, path, storage_options: dict | None = None) -> None:
    """Expose the table's current snapshot as `view` on a scratch (in-memory) connection, e.g. for GX."""
    table = open_delta(path, storage_options)
    scan = parquet_scan_sql(table)
    if scan is None:
        connection.register(view, table.to_pyarrow_dataset())
    else:
        connection.execute(f"create or replace view {quoted(view)} as {scan}").fetchall()


# Commits that leave every row already in the table as it was: appends and the pipeline's merges stamp new ingest
# times on the rows they add or replace; compaction and vacuum move rows between files without changing them.
ROWS_KEPT_OPERATIONS = ("MERGE", "OPTIMIZE", "VACUUM START", "VACUUM END")


def last_rewrite(table: DeltaTable) -> int | None:
    """The version of the newest commit that may have changed or removed rows without newer ingest times (the table's
    creation, an overwrite, a delete, an update, a restore), None when that is older than its retained log. Readers
    that go by ingest time (the incremental citizen chain, the shared file's record tables) start again after it."""
    for commit in table.history():  # newest first
        operation = commit.get("operation", "")
        appended = operation == "WRITE" and (commit.get("operationParameters") or {}).get("mode") == "Append"
        if commit["version"] == 0 or not (appended or operation in ROWS_KEPT_OPERATIONS):
            return commit["version"]
    return None


def appended_files(table: DeltaTable, since_version: int) -> list[str] | None:
    """The files the commits after `since_version` added, when they only added files (appends): None when a file of
    that snapshot is gone (an overwrite, a merge, a delete, compaction), rows may be deleted in place (deletion
    vectors), or that version can no longer be read. Readers that keep counts of a table add only these files."""
    if "deletionVectors" in set(table.protocol().reader_features or []) or table.version() < since_version:
        return None
    try:
        before = set(DeltaTable(table.table_uri, version=since_version).file_uris())
    except DeltaError:
        return None
    now = table.file_uris()
    return [uri for uri in now if uri not in before] if before <= set(now) else None


@dataclass(frozen=True)
class Published:
    kind: str  # view | table
    version: int  # the snapshot's Delta version
    last_rewrite: int | None


def publish_delta(connection, schema: str, name: str, path, storage_options: dict | None = None) -> Published:
    """Make `schema.name` in a DuckDB file show the table's current snapshot to every later session: a view over
    its Parquet files when DuckDB can read them (no copy; re-pointed at each refresh), else a table copied through
    Arrow. Returns what it published and the table's last rewrite, which the caller records in the build state."""
    table = open_delta(path, storage_options)
    scan = parquet_scan_sql(table)
    target = f"{quoted(schema)}.{quoted(name)}"
    connection.execute(f"create schema if not exists {quoted(schema)}").fetchall()
    kind = "view" if scan is not None else "table"
    _drop_other_kind(connection, schema, name, keep="VIEW" if kind == "view" else "BASE TABLE")
    if kind == "view":
        connection.execute(f"create or replace view {target} as {scan}").fetchall()
    else:
        connection.register("_delta_snapshot", table.to_pyarrow_dataset())
        try:
            connection.execute(f"create or replace table {target} as select * from _delta_snapshot").fetchall()
        finally:
            connection.unregister("_delta_snapshot")
    return Published(kind, table.version(), last_rewrite(table))


def _drop_other_kind(connection, schema: str, name: str, keep: str) -> None:
    """`create or replace view` fails over a table of the same name (and the reverse): drop the other kind."""
    kinds = connection.execute(
        "select table_type from information_schema.tables where table_schema = ? "
        "and table_name = ? and table_catalog = current_database()",
        [schema, name],
    ).fetchall()
    for (kind,) in kinds:
        if kind != keep:
            noun = "view" if kind == "VIEW" else "table"
            connection.execute(f"drop {noun} {quoted(schema)}.{quoted(name)}").fetchall()

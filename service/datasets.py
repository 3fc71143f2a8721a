"""What the service can serve: the shared file's tables and the open datasets, with their columns.

The shared file (lake/shared_marts.duckdb) is replaced by rename on every refresh. It is opened read-only, without
file access, once per version (inode): a request holds the version it started on, so a swap never fails it; the
next request opens the new file, and the old connection is closed when its last request ends. Each version is
ATTACHed to its own in-memory database: `duckdb.connect(path)` would hand back the cached instance of the old file
while any connection to it is still open. Open data is read
from its Parquet files, named by lake/open_data/catalog.json (re-read when it changes).
"""

from __future__ import annotations

import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.duckdb_delta import quoted, sql_string
from service.watched import WatchedFile
from sharing.config import load_config
from sharing.open_data import xsd_type

TABLE_ID = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
OPEN_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
ALIAS = "shared"  # the shared file's catalog name in each version's in-memory database


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # XSD datatype (xsd:integer, xsd:decimal, xsd:date, xsd:dateTime, xsd:boolean, xsd:string)
    treatment: str | None = None  # shared tables: keep, pseudonymise, mask_phone, year (sharing.columns)
    title: list | None = None  # open data: the catalog's titles (vi, en)


@dataclass(frozen=True)
class Dataset:
    id: str
    access: str  # "open" (no account) or "shared" (a grant)
    columns: dict[str, Column]
    metadata: dict = field(compare=False)
    source: str | Path = ""  # shared: quoted schema.table; open: the Parquet file

    @property
    def pseudonym_columns(self) -> list[str]:
        """Columns holding a person's pseudonym: their returned values go to the ledger."""
        return [c.name for c in self.columns.values() if c.treatment == "pseudonymise"]

    def describe(self) -> dict:
        return {
            "id": self.id,
            "access": self.access,
            **self.metadata,
            "columns": [
                {
                    "name": c.name,
                    "type": c.type,
                    **({"treatment": c.treatment} if c.treatment else {}),
                    **({"title": c.title} if c.title else {}),
                }
                for c in self.columns.values()
            ],
        }


class SharedVersion:
    """One version of the shared file: its read-only connection and the datasets it holds."""

    def __init__(self, path: Path, stamp: tuple):
        self.stamp = stamp
        self.connection = duckdb.connect()
        self.connection.execute(f"attach {sql_string(str(path))} as {ALIAS} (read_only)")
        self.connection.execute(f"use {ALIAS}")
        self.connection.execute("set enable_external_access = false")  # no other file from here on
        self.connection.execute("set lock_configuration = true")
        self.datasets = _shared_datasets(self.connection)
        self.readers = 0
        self.superseded = False


def _stamp(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _shared_datasets(con: duckdb.DuckDBPyConnection) -> dict[str, Dataset]:
    tables = con.execute(
        "select table_name, source_table, row_count, small_cell_suppressed_rows, built_at from sharing.tables"
    ).fetchall()
    types = {}
    for table, column, data_type in con.execute(
        "select schema_name || '.' || table_name, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() order by column_index"
    ).fetchall():
        types.setdefault(table, {})[column] = data_type
    treatments = {
        (t, c): tr
        for t, c, tr in con.execute("select table_name, column_name, treatment from sharing.columns").fetchall()
    }
    open_data = {t.name: t.open_data for t in load_config().open_datasets}  # titles of the tables also published
    datasets = {}
    for table, source, rows, suppressed, built_at in tables:
        if not TABLE_ID.match(table) or table not in types:
            continue
        columns = {
            c: Column(c, xsd_type(t), treatments.get((table, c), "keep"))
            for c, t in types[table].items()
            if COLUMN.match(c)
        }
        schema, name = table.split(".")
        published = open_data.get(table)
        metadata = {
            "title": published.title_vi if published else table,
            **({"title_en": published.title_en, "open_data": published.dataset} if published else {}),
            "source": "lake/shared_marts.duckdb",
            "person_level": schema == "records",
            "rows": rows,
            "small_cell_suppressed_rows": suppressed,
            "modified": built_at.isoformat(timespec="seconds") if built_at else None,
            "warehouse_table": source,
        }
        source = f"{ALIAS}.{quoted(schema)}.{quoted(name)}"  # cursors start in the in-memory catalog, not USE's
        datasets[table] = Dataset(table, "shared", columns, metadata, source)
    return datasets


class SharedFile:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()  # guards _current and the reader counts
        self._opening = threading.Lock()  # one new version opened at a time
        self._current: SharedVersion | None = None

    def _current_if(self, stamp: tuple | None) -> SharedVersion | None:
        """The open version if it is the file at `stamp`, counted as read."""
        with self._lock:
            current = self._current
            if current is not None and current.stamp == stamp:
                current.readers += 1
                return current
        return None

    def _version(self) -> SharedVersion | None:
        """The version at the path now, opened if new: by one request while the others wait for it (opening costs a
        database), with the stamp taken before and after, so a swap in between opens the newer file instead."""
        stamp = _stamp(self.path)
        current = self._current_if(stamp)
        if current is not None:
            return current
        with self._opening:
            for _ in range(5):
                stamp = _stamp(self.path)
                current = self._current_if(stamp)
                if current is not None:
                    return current
                if stamp is None:
                    self._supersede(None)
                    return None
                opened = SharedVersion(self.path, stamp)
                if _stamp(self.path) != stamp:
                    opened.connection.close()
                    continue
                with self._lock:
                    self._supersede(opened, locked=True)
                    opened.readers += 1
                return opened
        raise RuntimeError(f"{self.path} kept changing while it was opened")

    def _supersede(self, new: SharedVersion | None, *, locked: bool = False) -> None:
        if not locked:
            with self._lock:
                return self._supersede(new, locked=True)
        old, self._current = self._current, new
        if old is not None and old is not new:
            old.superseded = True
            if old.readers == 0:
                old.connection.close()

    def _release(self, version: SharedVersion) -> None:
        with self._lock:
            version.readers -= 1
            if version.superseded and version.readers == 0:
                version.connection.close()

    @contextmanager
    def reading(self):
        """(datasets, a cursor on them) of the current version, or ({}, None) when there is no shared file yet."""
        version = self._version()
        if version is None:
            yield {}, None
            return
        cursor = version.connection.cursor()
        try:
            yield version.datasets, cursor
        finally:
            cursor.close()
            self._release(version)

    def close(self) -> None:
        self._supersede(None)


def _open_datasets(catalog_path: Path) -> dict[str, Dataset]:
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    root = catalog_path.parent.resolve()
    datasets = {}
    for entry in catalog.get("dcat:dataset") or []:
        dataset_id = entry.get("dct:identifier", "")
        parquet = next(
            (d["dcat:downloadURL"] for d in entry.get("dcat:distribution", []) if d.get("dct:format") == "Parquet"),
            None,
        )
        if not OPEN_ID.match(dataset_id) or parquet is None:
            continue
        path = (root / parquet).resolve()
        if not path.is_relative_to(root):  # the catalog names files inside the open-data folder only
            continue
        columns = {
            c["csvw:name"]: Column(c["csvw:name"], c.get("csvw:datatype", "xsd:string"), title=c.get("dct:title"))
            for c in entry.get("csvw:tableSchema", {}).get("csvw:column", [])
            if COLUMN.match(c.get("csvw:name", ""))
        }
        metadata = {k: v for k, v in entry.items() if k != "csvw:tableSchema"}
        datasets[dataset_id] = Dataset(dataset_id, "open", columns, metadata, path)
    return datasets


class OpenData:
    def __init__(self, folder: Path):
        self._catalog = WatchedFile(folder / "catalog.json", _open_datasets, dict)
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None

    def datasets(self) -> dict[str, Dataset]:
        return self._catalog.get()

    @contextmanager
    def reading(self):
        """A cursor for one request on the open Parquet files, from one in-memory database (a new database costs
        more than the query); no file cache, the export renames new files over the old paths."""
        with self._lock:
            if self._connection is None:
                self._connection = duckdb.connect(config={"enable_external_file_cache": False})
            cursor = self._connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

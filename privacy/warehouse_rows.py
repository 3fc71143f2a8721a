"""A person's rows in a DuckDB file (the restricted warehouse): found and deleted in every base table.

A row is the person's when one of its text columns equals one of their identifiers (CCCD, phone); text that only
contains one of their values (a validation sample, a JSON record) is redacted in place. A name equal to a whole
value is left alone: that is a namesake's row, not the person's.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingestion.duckdb_delta import quoted, sql_string

REDACTED = "[đã xoá]"
TEXT_TYPES = ("VARCHAR", "JSON")


@dataclass
class TableHit:
    table: str
    column: str
    rows: int


def _text_columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[str]]:
    rows = con.execute(
        "select c.schema_name, c.table_name, c.column_name from duckdb_columns() c join duckdb_tables() t "
        "on t.database_name = c.database_name and t.schema_name = c.schema_name and t.table_name = c.table_name "
        "where c.database_name = ? and c.data_type in ('VARCHAR', 'JSON') order by 1, 2, c.column_index",
        [database],
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault(f"{quoted(database)}.{quoted(schema)}.{quoted(table)}", []).append(column)
    return tables


def _equal(columns: list[str], values: tuple[str, ...]) -> str:
    listed = ", ".join(sql_string(v) for v in values)
    return " or ".join(f"{quoted(c)} in ({listed})" for c in columns)


def _contains(column: str, values: tuple[str, ...]) -> str:
    return " or ".join(f"contains({quoted(column)}, {sql_string(v)})" for v in values)


def find_rows(con, database: str, identifiers: tuple[str, ...]) -> dict[str, list[dict]]:
    """Every base table's rows whose text columns equal one of `identifiers`, as dicts, by table."""
    found = {}
    for table, columns in _text_columns(con, database).items():
        relation = con.sql(f"select * from {table} where {_equal(columns, identifiers)}")
        rows = [dict(zip(relation.columns, row)) for row in relation.fetchall()]
        if rows:
            found[table.replace('"', "").split(".", 1)[1]] = rows
    return found


def erase_rows(con, database: str, identifiers: tuple[str, ...], values: tuple[str, ...]) -> list[TableHit]:
    """Delete the person's rows (an identifier equals a text column) and redact their values inside other text."""
    hits = []
    for table, columns in _text_columns(con, database).items():
        name = table.replace('"', "").split(".", 1)[1]
        deleted = con.execute(f"delete from {table} where {_equal(columns, identifiers)}").fetchall()[0][0]
        if deleted:
            hits.append(TableHit(name, "*", deleted))
        for column in columns:
            embedded = f"({_contains(column, values)}) and {quoted(column)} not in ({_listed(values)})"
            redacted = quoted(column)
            for value in values:
                redacted = f"replace({redacted}, {sql_string(value)}, {sql_string(REDACTED)})"
            changed = con.execute(f"update {table} set {quoted(column)} = {redacted} where {embedded}").fetchall()
            if changed[0][0]:
                hits.append(TableHit(name, column, changed[0][0]))
    return hits


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(sql_string(v) for v in values)

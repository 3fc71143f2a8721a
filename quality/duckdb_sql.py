"""A DuckDB SQLAlchemy dialect that GX's SQL engine can validate with, and the datasource URLs that use it.

Why: GX 1.24's `SqlAlchemyExecutionEngine.execute_query` returns a cursor result *after* leaving
`with engine.connect()`; closing that SQLAlchemy connection rolls back its transaction, and duckdb_engine runs
cursors on the connection itself, so the ROLLBACK discards the pending result and every metric comes back
empty. Validation only reads, so this dialect runs in DuckDB's autocommit mode: no BEGIN, no ROLLBACK, and the
result survives until GX fetches it. It keeps the name "duckdb", so GX compiles SQL exactly as for duckdb_engine.

It can also expose Delta tables to SQL without copying them: `connect_args={"delta_tables": {view: path}}`
registers each table's Arrow dataset (lazy, column-pruned scans of its Parquet files) on the new connection.
"""

from __future__ import annotations

from pathlib import Path

from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import postgresql, registry

from ingestion.duckdb_delta import register_delta

DRIVER = "duckdb.gx"


class AutocommitDuckDBDialect(DuckDBDialect):
    """duckdb_engine without transactions (read-only validation needs none)."""

    driver = "gx"
    supports_statement_cache = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # GX picks the SQL for regex/LIKE rules by `issubclass(dialect.dialect, postgresql.dialect)` and otherwise
        # says "Regex is not supported for dialect duckdb". DuckDB's `~` / `!~` are PostgreSQL's (partial-match
        # regex), so the PostgreSQL form is right. (On the instance: SQLAlchemy reads a class attribute of that
        # name as "load this dialect instead".)
        self.dialect = postgresql.dialect

    def do_begin(self, dbapi_connection) -> None:
        pass

    def do_rollback(self, dbapi_connection) -> None:
        pass

    def do_commit(self, dbapi_connection) -> None:
        pass

    def connect(self, *cargs, **cparams):
        delta_tables = cparams.pop("delta_tables", None) or {}
        arrow_tables = cparams.pop("arrow_tables", None) or {}
        connection = super().connect(*cargs, **cparams)
        for view, path in delta_tables.items():
            register_delta(connection, view, path)
        for view, token in arrow_tables.items():
            connection.register(view, _ARROW_TABLES[token])
        _register_reference(connection)
        return connection


# Arrow tables handed to `connect_args(arrow_tables=...)`, by token: GX keeps datasource kwargs as plain config.
_ARROW_TABLES: dict[str, object] = {}

registry.register(DRIVER, __name__, "AutocommitDuckDBDialect")


def duckdb_url(database: Path | str = ":memory:") -> str:
    """SQLAlchemy URL of a DuckDB file (opened read-only by the caller's connect_args) or an in-memory database."""
    return f"duckdb+gx:///{database}"


def commune_codes_view(era: str) -> str:
    return f"quality_ref_commune_codes_{era}"


def _register_reference(connection) -> None:
    """Reference code lists as views, so membership rules are joins instead of huge literal IN lists."""
    import pyarrow as pa

    from quality.expectations import commune_codes

    for era in ("any", "current"):
        connection.register(commune_codes_view(era), pa.table({"commune_code": commune_codes(era)}))


def connect_args(delta_tables: dict | None = None, arrow_tables: dict | None = None) -> dict:
    """connect_args for the engine: Delta tables by path, in-memory Arrow tables by a registry token."""
    args: dict = {}
    if delta_tables:
        args["delta_tables"] = {view: str(path) for view, path in delta_tables.items()}
    if arrow_tables:
        args["arrow_tables"] = {}
        for view, table in arrow_tables.items():
            token = f"{view}:{id(table)}"
            _ARROW_TABLES[token] = table
            args["arrow_tables"][view] = token
    return args

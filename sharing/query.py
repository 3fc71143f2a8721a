"""Analysts' entry point: run SQL on the shared marts file, opened read-only, and print the result.

    python -m sharing.query "select * from marts.mart_dossier_on_time_by_agency_month limit 5"
    python -m sharing.query --tables            # what is in the file (and what was done to each column)
    python -m sharing.query --csv "SQL" > out.csv
    python -m sharing.query --timeout 300 "SQL"   # stop a statement after 300 s (default 60)

Only lake/shared_marts.duckdb (no raw personal data) is opened; the restricted warehouse is not reachable from here:
the connection is read-only and has external access (ATTACH, reading other files) switched off.
"""

import argparse
import sys
import threading

import duckdb

from ingestion.lake import Lake

TABLES_SQL = """
select t.table_name, t.row_count, t.small_cell_suppressed_rows as suppressed_rows,
       string_agg(c.column_name || ' (' || c.treatment || ')', ', ') filter (where c.treatment <> 'keep')
           as protected_columns
from sharing.tables t left join sharing.columns c using (table_name)
group by all order by 1
"""


def connect(lake: Lake | None = None) -> duckdb.DuckDBPyConnection:
    path = (lake or Lake.from_env()).shared_marts
    if not path.exists():
        raise SystemExit(f"{path} does not exist yet: run `python -m orchestration.run_pipeline` first")
    return duckdb.connect(
        str(path), read_only=True, config={"enable_external_access": False, "lock_configuration": True}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sql", nargs="?", help="the query")
    parser.add_argument("--tables", action="store_true", help="list the shared tables")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    parser.add_argument("--max-rows", type=int, default=100, help="rows to print as a table (default 100)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before the query is stopped (default 60)")
    args = parser.parse_args(argv)
    if not args.sql and not args.tables:
        parser.error("give a SQL query or --tables")
    if args.timeout <= 0:
        parser.error("--timeout must be a positive number of seconds")
    with connect() as con:
        # DuckDB has no statement timeout: a timer interrupts the connection, and the query fails with an error
        timer = threading.Timer(args.timeout, con.interrupt)
        timer.start()
        try:
            _run(con, TABLES_SQL if args.tables else args.sql, args)
        except duckdb.Error as error:
            if not timer.is_alive():
                print(f"error: the query was stopped after {args.timeout:g} s (--timeout)", file=sys.stderr)
            else:
                print(f"error: {error}", file=sys.stderr)
            return 2
        finally:
            timer.cancel()
    return 0


def _run(con: duckdb.DuckDBPyConnection, sql: str, args: argparse.Namespace) -> None:
    """Parse, run and print: DuckDB runs a relation's query only when it is fetched, so errors come from either."""
    relation = con.sql(sql)
    if relation is None:
        return
    if args.csv:
        relation.pl().write_csv(sys.stdout)
    else:
        relation.show(max_rows=args.max_rows, max_width=200)


if __name__ == "__main__":
    sys.exit(main())

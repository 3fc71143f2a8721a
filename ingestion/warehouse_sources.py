"""The silver Delta tables as dbt's sources: the `silver` schema of the warehouse DuckDB file.

dbt reads `source('silver', name)` as `warehouse.silver.<name>`. Before each dbt run this points those relations at
the tables' current snapshots: on a local lake, views over their Parquet files (nothing copied, so a refresh does not
re-copy 5 M dossiers into DuckDB); on object storage, tables copied through Arrow with the lake's storage options
(DuckDB cannot read S3 offline). Running dbt by hand: `python -m ingestion.warehouse_sources` first.
"""

from __future__ import annotations

import duckdb
from deltalake.exceptions import TableNotFoundError

from ingestion import build_state
from ingestion.catalog import load_catalog
from ingestion.duckdb_delta import publish_delta
from ingestion.lake import Lake

SCHEMA = "silver"


def expose_silver(lake: Lake, names: list[str] | None = None) -> dict[str, str]:
    """Point `silver.<source>` at the silver tables of `names` (default: every source) that exist; returns
    {source: "view" | "table" | "missing"}.

    A source whose silver table was never built is reported "missing"; dbt then fails on it, naming the relation.
    Each relation's row `silver.<source>` in the build state gets the table's last rewrite as its watermark, and
    counts as a whole build when that changed (the readers that go by ingest time start again after it); the store
    exists afterwards, for dbt to ATTACH."""
    lake.warehouse.parent.mkdir(parents=True, exist_ok=True)
    build_state.ensure(lake)
    recorded = build_state.read_all(lake)
    exposed: dict[str, str] = {}
    builds = []
    with duckdb.connect(str(lake.warehouse)) as connection:
        for name in names if names is not None else load_catalog():
            location = lake.silver(name)
            try:
                published = publish_delta(connection, SCHEMA, name, location, lake.storage_options)
            except TableNotFoundError:
                exposed[name] = "missing"
                continue
            exposed[name] = published.kind
            rewrite = None if published.last_rewrite is None else str(published.last_rewrite)
            previous = recorded.get(f"{SCHEMA}.{name}")
            builds.append(
                {
                    "object": f"{SCHEMA}.{name}",
                    "built_from": {"delta_table": str(location), "version": published.version, "as": published.kind},
                    "watermark": rewrite,
                    "whole": previous is None or previous.watermark != rewrite,
                }
            )
    build_state.record_many(lake, builds)
    return exposed


if __name__ == "__main__":
    lake = Lake.from_env()
    for source, kind in expose_silver(lake).items():
        print(f"{lake.warehouse}: {SCHEMA}.{source} → {kind}")

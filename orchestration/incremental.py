"""An incremental refresh: only the sources with new landing files, and what is downstream of them.

A nightly run after one day of extracts touches two or three sources; re-running bronze, silver and both GX
suites of the other ten (and the dbt models they feed) would redo work whose inputs did not change. This picks
the `warehouse_refresh` assets to run:
- a source is *changed* when a landing file is not in the ingestion log (by name), was modified after it was
  logged, or bronze holds files silver has not applied yet (a run that stopped half-way);
- the selection is the changed sources' bronze and silver assets plus everything downstream of their silver
  assets (dbt models fed by them, mart checks, published exports, the scorecard); checks come with their assets.
Bronze still decides by content hash, so a file that was only touched is skipped there as before.
"""

from datetime import UTC, datetime

import polars as pl
from dagster import AssetKey, AssetSelection, Definitions

from ingestion.catalog import Source
from ingestion.extracts import landing_files
from ingestion.ingestion_log import read_log
from ingestion.lake import Lake


def source_changed(source: Source, lake: Lake, log: pl.DataFrame) -> bool:
    mine = log.filter(pl.col("source") == source.name)
    bronze = mine.filter(pl.col("stage") == "bronze")
    logged = dict(bronze.group_by("file").agg(pl.col("ingested_at").max()).iter_rows())
    for path in landing_files(source, lake.landing):
        when = logged.get(path.name)
        if when is None or datetime.fromtimestamp(path.stat().st_mtime, UTC) > when:
            return True
    loaded = set(bronze.filter(pl.col("status") == "loaded")["file_hash"])
    applied = set(mine.filter(pl.col("stage") == "silver")["file_hash"])
    return bool(loaded - applied)


def changed_sources(catalog: dict[str, Source], lake: Lake) -> list[str]:
    log = read_log(lake.ingestion_log)
    return [name for name, source in catalog.items() if source_changed(source, lake, log)]


def incremental_selection(defs: Definitions, catalog: dict[str, Source], lake: Lake) -> list[AssetKey]:
    """Asset keys to run for the sources that changed (empty: nothing to do)."""
    changed = changed_sources(catalog, lake)
    if not changed:
        return []
    roots = [AssetKey([layer, name]) for name in changed for layer in ("bronze", "silver")]
    selection = AssetSelection.assets(*roots).downstream()
    return sorted(selection.resolve(defs.resolve_asset_graph()), key=lambda k: k.to_user_string())

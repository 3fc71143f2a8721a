"""The dbt project as Dagster assets: the warehouse's `silver` views are their own asset between the silver Delta
tables and dbt's sources; models, snapshots, seeds and dbt tests appear in the graph (manifest: dbt_project.py)."""

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, RetryPolicy, multi_asset
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingestion.catalog import load_catalog
from ingestion.warehouse_sources import SCHEMA as SILVER_VIEWS_SCHEMA
from ingestion.warehouse_sources import expose_silver
from orchestration.dbt_project import DBT_PROJECT_DIR, dbt_project
from orchestration.resources import WAREHOUSE_POOL, LakeResource, warehouse_lock_error

KEEP_RUN_TARGETS = 30  # dbt run directories kept under dbt_project/target/ (a month of nightly refreshes)


def silver_view_key(source: str) -> AssetKey:
    return AssetKey(["warehouse", SILVER_VIEWS_SCHEMA, source])


@multi_asset(
    specs=[
        AssetSpec(
            silver_view_key(name),
            deps=[AssetKey(["silver", name])],
            group_name="warehouse_sources",
            kinds={"duckdb"},
            description=f"warehouse.duckdb `silver.{name}`: the silver Delta table's "
            "current snapshot, as dbt's source.",
        )
        for name in load_catalog()
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def silver_views(context: AssetExecutionContext, lake_resource: LakeResource):
    lake = lake_resource.lake()
    if (failure := warehouse_lock_error(lake.warehouse)) is not None:
        raise failure
    names = [key.path[-1] for key in context.selected_asset_keys]
    exposed = expose_silver(lake, names)
    context.log.info("dbt sources: " + ", ".join(f"silver.{name} ({kind})" for name, kind in exposed.items()))
    for name, kind in exposed.items():
        yield MaterializeResult(asset_key=silver_view_key(name), metadata={"relation": kind})


class WarehouseTranslator(DagsterDbtTranslator):
    """Models are keyed and grouped by their warehouse schema (staging, conformed, marts, reference)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        if dbt_resource_props["resource_type"] == "source":
            return silver_view_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)


# dbt's errors (bad SQL, failed dbt tests) are deterministic: no retries, whatever the job's policy for transient ones.
@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
    pool=WAREHOUSE_POOL,
    retry_policy=RetryPolicy(max_retries=0),
)
def warehouse_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource, lake_resource: LakeResource):
    lake = lake_resource.lake()
    if (failure := warehouse_lock_error(lake.warehouse)) is not None:
        raise failure
    # dbt runs in dbt_project/; its profile reads the lake's absolute path from TN_LAKE_DIR.
    os.environ["TN_LAKE_DIR"] = str(lake.root)
    invocation = dbt.cli(["build"], context=context)
    yield from invocation.stream()
    _keep_partial_parse(invocation.target_path)
    pruned = prune_run_targets(invocation.target_path)
    if pruned:
        context.log.info(f"removed {len(pruned)} old dbt run directories (keeping the newest {KEEP_RUN_TARGETS})")


def prune_run_targets(run_target: Path, keep: int | None = None) -> list[Path]:
    """dagster-dbt gives every run its own target directory beside `run_target` (compiled SQL, run_results.json,
    dbt.log: ~6 MB a run, ~2 GB a year of nightly refreshes). Keep the newest `keep` (they answer "what did that
    run execute?"), remove the rest; returns what was removed."""
    keep = KEEP_RUN_TARGETS if keep is None else keep
    prefix = run_target.name.split("-")[0]  # the op name: warehouse_dbt_assets-<run id>-<hash>
    runs = sorted(
        (p for p in run_target.parent.glob(f"{prefix}-*") if p.is_dir() and p != run_target),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    removed = runs[max(keep - 1, 0) :]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


def _keep_partial_parse(run_target: Path) -> None:
    """Hand this run's partial-parse state back to the project's target/, which dagster-dbt copies into the next
    run: otherwise every run re-parses the whole project ("profile has changed": the state from `dbt parse` at
    import time was made with another TN_LAKE_DIR), a fixed few seconds per refresh."""
    built = run_target / "partial_parse.msgpack"
    if built.exists():
        target = DBT_PROJECT_DIR / dbt_project.target_path  # `target` unless configured absolute
        staged = target / f".partial_parse.{os.getpid()}.tmp"
        shutil.copyfile(built, staged)
        os.replace(staged, target / "partial_parse.msgpack")

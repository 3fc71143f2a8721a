"""The dbt project as Dagster assets: the warehouse's `silver` views are their own asset between the silver Delta
tables and dbt's sources; models, snapshots, seeds and dbt tests appear in the graph (manifest: dbt_project.py)."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, RetryPolicy, multi_asset
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingestion.catalog import load_catalog
from ingestion.warehouse_sources import SCHEMA as SILVER_VIEWS_SCHEMA
from ingestion.warehouse_sources import expose_silver
from orchestration.dbt_project import dbt_project
from orchestration.dbt_runs import run_dbt, tidy_run_target
from orchestration.resources import WAREHOUSE_POOL, LakeResource, warehouse_lock_error


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
    invocation = run_dbt(context, dbt, lake_resource.lake(), ["build"])
    yield from invocation.stream()
    tidy_run_target(context, invocation)

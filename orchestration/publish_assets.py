"""Marts published as Parquet for other systems (`lake/published/mart=<name>/data_0.parquet`), one Dagster asset per
dbt mart, so a mart is shared only once what gates it has passed: its dbt tests (a failing test fails the dbt step,
and nothing downstream of it runs) and its blocking GX mart suite where it has one. The Hive layout lets consumers
read every mart at once: `read_parquet('lake/published/mart=*/*.parquet', hive_partitioning = true)`."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue, asset

from orchestration.dbt_assets import warehouse_dbt_assets
from orchestration.resources import WAREHOUSE_POOL, LakeResource

MART_SCHEMA = "marts"


def mart_keys() -> list[AssetKey]:
    return sorted((k for k in warehouse_dbt_assets.keys if k.path[0] == MART_SCHEMA), key=lambda k: k.path[-1])


def published_key(mart: AssetKey) -> AssetKey:
    return AssetKey(["published", mart.path[-1]])


def _publisher(mart: AssetKey) -> AssetsDefinition:
    name = mart.path[-1]

    # pool: opens the warehouse file (read-only, which another process writing it also refuses)
    @asset(
        key=published_key(mart),
        deps=[mart],
        group_name="published",
        kinds={"duckdb", "parquet"},
        pool=WAREHOUSE_POOL,
        description=f"{MART_SCHEMA}.{name} as Parquet under lake/published/mart={name}/, after its gates.",
    )
    def _publish(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
        lake = lake_resource.lake()
        folder = lake.published / f"mart={name}"
        folder.mkdir(parents=True, exist_ok=True)
        target, staged = folder / "data_0.parquet", folder / ".data_0.parquet.tmp"
        with duckdb.connect(str(lake.warehouse), read_only=True) as con:
            con.execute(f"copy (select * from {MART_SCHEMA}.{name}) to '{staged}' (format parquet)")
            rows = con.execute(f"select count(*) from {MART_SCHEMA}.{name}").fetchone()[0]
        staged.replace(target)  # readers see the previous file or the new one
        context.log.info(f"published {rows:,} rows of {MART_SCHEMA}.{name} to {target}")
        return MaterializeResult(metadata={"dagster/row_count": rows, "path": MetadataValue.path(str(target))})

    return _publish


published_assets = [_publisher(mart) for mart in mart_keys()]

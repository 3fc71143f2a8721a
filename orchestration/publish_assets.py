"""Shared outputs: marts published as Parquet for other systems, only once their quality gate has passed."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from ingestion.lake import Lake
from orchestration.quality_checks import ON_TIME_MART
from orchestration.resources import WAREHOUSE_POOL


@asset(
    key=AssetKey(["published", "dossier_on_time_by_agency_month"]),
    deps=[ON_TIME_MART],
    group_name="published",
    kinds={"duckdb", "parquet"},
    pool=WAREHOUSE_POOL,  # opens the warehouse file (read-only, still blocked by another process writing)
    description="The on-time mart as Parquet under lake/published/, for the IOC and other consumers.",
)
def published_dossier_on_time(context: AssetExecutionContext) -> MaterializeResult:
    lake = Lake.from_env()
    target = lake.published / "dossier_on_time_by_agency_month.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        con.execute(f"copy (select * from {'.'.join(ON_TIME_MART.path)}) to '{target}' (format parquet)")
        rows = con.execute(f"select count(*) from '{target}'").fetchone()[0]
    context.log.info(f"published {rows:,} rows to {target}")
    return MaterializeResult(metadata={"dagster/row_count": rows, "path": MetadataValue.path(str(target))})

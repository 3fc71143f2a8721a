"""Marts published as Parquet for other systems (`lake/published/mart=<name>/data_0.parquet`), one Dagster asset per
dbt mart, so a mart is shared only once what gates it has passed: its dbt tests (a failing test fails the dbt step,
and nothing downstream of it runs) and its blocking GX mart suite where it has one. The Hive layout lets consumers
read every mart at once: `read_parquet('lake/published/mart=*/*.parquet', hive_partitioning = true)`.

Each export is PII-scanned (sharing/pii_scan.py, as the shared file) under its temporary name: a hit fails the asset,
naming table.column and rule, and the previous file stays."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Failure, MaterializeResult, MetadataValue, asset

from orchestration.dbt_assets import warehouse_dbt_assets
from orchestration.resources import BEFORE_OTHER_READY_STEPS, WAREHOUSE_POOL, LakeResource
from sharing.pii_scan import PersonalDataLeak, needles_from_file, refuse_leaks, scan_parquet

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
        op_tags=BEFORE_OTHER_READY_STEPS,
        description=f"{MART_SCHEMA}.{name} as Parquet under lake/published/mart={name}/, after its gates.",
    )
    def _publish(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
        lake = lake_resource.lake()
        folder = lake.published / f"mart={name}"
        folder.mkdir(parents=True, exist_ok=True)
        target, staged = folder / "data_0.parquet", folder / ".data_0.parquet.tmp"
        try:
            with duckdb.connect() as con:
                con.execute(f"attach '{lake.warehouse}' as wh (read_only)")
                con.execute(f"copy (select * from wh.{MART_SCHEMA}.{name}) to '{staged}' (format parquet)")
                rows = con.execute(f"select count(*) from wh.{MART_SCHEMA}.{name}").fetchone()[0]
            report = scan_parquet({f"{MART_SCHEMA}.{name}": staged}, needles_from_file(lake.warehouse))
            refuse_leaks(report, f"published/mart={name}")
            staged.replace(target)  # readers see the previous file or the new one
        except PersonalDataLeak as leak:  # deterministic: retrying cannot help
            context.log.error(str(leak))
            raise Failure(description=str(leak), allow_retries=False) from leak
        finally:
            staged.unlink(missing_ok=True)
        context.log.info(f"published {rows:,} rows of {MART_SCHEMA}.{name} to {target}; {report.summary()}")
        return MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "path": MetadataValue.path(str(target)),
                "pii_scan": report.summary(),
                "pii_columns_scanned": len(report.columns),
            }
        )

    return _publish


published_assets = [_publisher(mart) for mart in mart_keys()]

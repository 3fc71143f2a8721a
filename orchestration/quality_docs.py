"""GX Data Docs rendered once per run, after every gate of it: the checks only store their results (a render per
check re-read the site's index each time)."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.ingestion_assets import CATALOG, bronze_key, silver_key
from orchestration.quality_checks import ON_TIME_MART
from orchestration.resources import LakeResource
from quality.results import build_data_docs

DATA_DOCS = AssetKey(["quality", "data_docs"])


@asset(
    key=DATA_DOCS,
    deps=[*(key(s) for s in CATALOG.values() for key in (bronze_key, silver_key)), ON_TIME_MART],
    group_name="quality",
    kinds={"great_expectations"},
    description="GX Data Docs (lake/quality/data_docs/index.html): every validation result stored since the last "
    "render (this run's gates, and those of runs a failed gate stopped before this step).",
)
def quality_data_docs(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
    index, rendered = build_data_docs(lake_resource.lake())
    context.log.info(f"Data Docs: {rendered} validation result(s) rendered")
    return MaterializeResult(metadata={"data_docs": MetadataValue.path(str(index)), "results_rendered": rendered})


docs_assets = [quality_data_docs]

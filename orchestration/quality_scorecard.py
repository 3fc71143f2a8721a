"""The six-criteria scorecard as a Dagster asset: runs after the marts are built and published (it writes the
warehouse DuckDB file, which dbt also writes: DuckDB has one writer, so it must come after dbt)."""

from datetime import UTC, datetime

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.ingestion_assets import CATALOG
from orchestration.publish_assets import published_assets
from orchestration.quality_checks import ON_TIME_MART
from orchestration.resources import BEFORE_OTHER_READY_STEPS, WAREHOUSE_POOL, LakeResource
from quality.results import QualityPaths
from quality.scorecard import by_department, markdown
from quality.scorecard_signals import refresh_scorecard

SCORECARD = AssetKey(["quality", "scorecard"])


@asset(
    key=SCORECARD,
    deps=[ON_TIME_MART, *(a.key for a in published_assets)],
    group_name="quality",
    kinds={"polars", "deltalake", "duckdb"},
    pool=WAREHOUSE_POOL,  # writes the warehouse file
    op_tags=BEFORE_OTHER_READY_STEPS,
    description="Đúng - đủ - sạch - sống - thống nhất - dùng chung: a 0–100 score per dataset, department and day "
    "(formulas: quality/scorecard.py). Delta lake/quality/scorecard_daily; DuckDB quality.scorecard_daily.",
)
def quality_scorecard(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
    lake = lake_resource.lake()
    card = refresh_scorecard(lake, CATALOG, as_of=datetime.now(UTC))
    context.log.info("scorecard:\n" + markdown(card))
    return MaterializeResult(
        metadata={
            "dagster/row_count": card.height,
            "scorecard": MetadataValue.md(markdown(card)),
            "by_department": MetadataValue.md(_department_markdown(card)),
            "lowest_overall": min(
                (r["overall"] for r in card.iter_rows(named=True) if r["overall"] is not None), default=0.0
            ),
            "path": MetadataValue.path(str(QualityPaths.of(lake).scorecard)),
            "warehouse_tables": MetadataValue.json(
                ["quality.scorecard_daily", "quality.scorecard_department_daily", "quality.validation_results"]
            ),
        }
    )


def _department_markdown(card) -> str:
    departments = by_department(card)
    columns = [c for c in departments.columns if c != "day"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join("–" if v is None else str(v) for v in row) + " |"
        for row in departments.select(columns).iter_rows()
    ]
    return "\n".join(lines)


quality_assets = [quality_scorecard]

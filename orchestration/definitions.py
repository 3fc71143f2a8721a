"""The code location `workspace.yaml` loads: assets from extracts to marts, their checks, and the refresh job."""

from dagster import AssetSelection, Definitions, define_asset_job
from dagster_dbt import DbtCliResource

from orchestration.dbt_assets import dbt_project, warehouse_dbt_assets
from orchestration.ingestion_assets import ingestion_assets
from orchestration.publish_assets import published_dossier_on_time
from orchestration.quality_checks import quality_checks
from orchestration.quality_scorecard import quality_assets
from orchestration.sensors import ingest_landed_files, landing_zone_sensor
from orchestration.shared_outputs import shared_assets, shared_checks

warehouse_refresh = define_asset_job(
    "warehouse_refresh",
    selection=AssetSelection.all(),
    description="Ingest landed extracts, rebuild silver, run dbt and every quality gate.",
)

defs = Definitions(
    assets=[*ingestion_assets, warehouse_dbt_assets, published_dossier_on_time, *quality_assets,
            *shared_assets],
    asset_checks=[*quality_checks, *shared_checks],
    jobs=[warehouse_refresh, ingest_landed_files],
    sensors=[landing_zone_sensor],
    resources={"dbt": DbtCliResource(project_dir=dbt_project)},
)

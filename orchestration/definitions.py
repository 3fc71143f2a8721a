"""The code location `workspace.yaml` loads: assets from extracts to marts, their checks, and the refresh job."""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from orchestration.alerts import alert_on_run_failure
from orchestration.dbt_assets import silver_views, warehouse_dbt_assets
from orchestration.dbt_project import dbt_resource
from orchestration.department_assets import department_assets, department_problem_alerts
from orchestration.ingestion_assets import ingestion_assets
from orchestration.lake_maintenance import lake_maintenance
from orchestration.privacy_jobs import privacy_deadline_check, privacy_jobs, privacy_requests
from orchestration.publish_assets import published_assets
from orchestration.quality_checks import quality_checks
from orchestration.quality_docs import docs_assets
from orchestration.quality_scorecard import quality_assets
from orchestration.resources import LakeResource
from orchestration.schedules import TRANSIENT_RETRY, nightly_warehouse_refresh, weekly_lake_maintenance
from orchestration.sensors import landing_zone_sensor
from orchestration.shared_outputs import shared_assets
from orchestration.whole_table_validation import whole_table_validation

warehouse_refresh = define_asset_job(
    "warehouse_refresh",
    selection=AssetSelection.all(),
    description="Ingest landed extracts, rebuild silver, run dbt and every quality gate.",
    op_retry_policy=TRANSIENT_RETRY,
)


def build_defs() -> Definitions:
    """The definitions with the lake settings of the current environment (`TN_LAKE_DIR`, `TN_LAKE_URI`, `AWS_*`)."""
    return Definitions(
        assets=[
            *ingestion_assets,
            silver_views,
            warehouse_dbt_assets,
            *published_assets,
            *quality_assets,
            *docs_assets,
            *shared_assets,
            *department_assets,
            privacy_requests,
        ],
        asset_checks=quality_checks,
        jobs=[warehouse_refresh, lake_maintenance, whole_table_validation, *privacy_jobs],
        schedules=[nightly_warehouse_refresh, weekly_lake_maintenance, privacy_deadline_check],
        sensors=[landing_zone_sensor, alert_on_run_failure, department_problem_alerts],
        resources={
            "dbt": dbt_resource(),
            "lake_resource": LakeResource.from_env(),
        },
        # A run executes its steps in its own process: a process per step would set up this code location again for
        # each step while polars and DuckDB already use every core (bench/README.md). Pools hold either way.
        executor=in_process_executor,
    )


defs = build_defs()

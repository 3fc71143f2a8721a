"""When the warehouse refreshes by itself: nightly at 01:00 (Asia/Ho_Chi_Minh), only what changed; retries for
transient failures; the lake's weekly maintenance (Sunday 04:00). (One
DuckDB writer at a time is the instance's concurrency pool `warehouse_duckdb`: orchestration/resources.py,
deploy/dagster.yaml.)

Why a schedule and not declarative automation: the refresh is a batch the province plans around (extracts arrive
during the day, the IOC reads marts in the morning), the blocking GX gates must run in the same run as what they
guard, and a schedule's tick is visible and re-playable in the UI. The tick asks the one change detector
(orchestration/change_detection.py) what to run: only the sources with new extracts and everything downstream of
them, so a night with no new extracts skips (with a reason shown on the tick) instead of rebuilding the warehouse.
"""

import os
from datetime import datetime

from dagster import (
    Backoff,
    DefaultScheduleStatus,
    Jitter,
    RetryPolicy,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from orchestration.change_detection import plan_refresh
from orchestration.lake_maintenance import lake_maintenance
from orchestration.resources import LakeResource

NIGHTLY_CRON = "0 1 * * *"
WEEKLY_MAINTENANCE_CRON = "0 4 * * 0"  # Sunday 04:00, three hours after the nightly refresh starts
TIMEZONE = "Asia/Ho_Chi_Minh"

# Transient failures (an NFS/S3 hiccup, a landing file still being copied) get retried with backoff.
# Deterministic ones are not: failed blocking GX gates are framework errors, and dbt errors and the DuckDB lock
# check raise Failure(allow_retries=False) (orchestration/resources.py). TN_STEP_RETRIES / TN_RETRY_DELAY_S tune
# it per deployment.
TRANSIENT_RETRY = RetryPolicy(
    max_retries=int(os.environ.get("TN_STEP_RETRIES", "2")),
    delay=float(os.environ.get("TN_RETRY_DELAY_S", "15")),
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)


@schedule(
    name="nightly_warehouse_refresh",
    job_name="warehouse_refresh",
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="01:00 Asia/Ho_Chi_Minh: refresh the sources that landed files, and everything downstream of them.",
)
def nightly_warehouse_refresh(context: ScheduleEvaluationContext, lake_resource: LakeResource):
    plan = plan_refresh(context.instance, context.repository_def.asset_graph, lake_resource.lake())
    if not plan:
        return SkipReason("No source landed new extracts since its last load; nothing to refresh.")
    context.log.info(f"refreshing: {plan.reason}")
    tick = context.scheduled_execution_time or datetime.now()
    return RunRequest(run_key=f"nightly-{tick:%Y-%m-%d}", asset_selection=list(plan.keys), tags=plan.tags)


weekly_lake_maintenance = ScheduleDefinition(
    name="weekly_lake_maintenance",
    job=lake_maintenance,
    cron_schedule=WEEKLY_MAINTENANCE_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Sunday 04:00 Asia/Ho_Chi_Minh: compact, vacuum and clean up every Delta table of the lake.",
)

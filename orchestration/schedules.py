"""When the warehouse refreshes by itself: nightly at 01:00 (Asia/Ho_Chi_Minh), only what changed; retries for
transient failures; the lake's weekly maintenance (Sunday 04:00). (One
DuckDB writer at a time is the instance's concurrency pool `warehouse_duckdb`: orchestration/resources.py,
deploy/dagster.yaml.)

Why a schedule and not declarative automation: the refresh is a batch the province plans around (extracts arrive
during the day, the IOC reads marts in the morning), the blocking GX gates must run in the same run as what they
guard, and a schedule's tick is visible and re-playable in the UI. The tick asks the instance which sources landed
files since their last bronze materialization and requests only those sources and everything downstream of them,
so a night with no new extracts skips (with a reason shown on the tick) instead of rebuilding the warehouse.
"""

import os
from datetime import datetime

from dagster import (
    AssetKey,
    AssetSelection,
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

from ingestion.catalog import load_catalog
from ingestion.lake import Lake
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


def _last_materialized(context: ScheduleEvaluationContext, key: AssetKey) -> float | None:
    event = context.instance.get_latest_materialization_event(key)
    return event.timestamp if event else None


def changed_sources(context: ScheduleEvaluationContext, lake: Lake) -> dict[str, str]:
    """Source name → why it needs a refresh: new landing files, never built, or silver behind bronze."""
    changed = {}
    for source in load_catalog().values():
        bronze = _last_materialized(context, AssetKey(["bronze", source.name]))
        silver = _last_materialized(context, AssetKey(["silver", source.name]))
        files = [p for p in lake.landing.glob(source.pattern) if p.is_file()]
        newer = [p.name for p in files if bronze is None or p.stat().st_mtime > bronze]
        if newer:
            changed[source.name] = f"{len(newer)} landing file(s) since last load: {', '.join(sorted(newer)[:5])}"
        elif files and (silver is None or (bronze is not None and silver < bronze)):
            changed[source.name] = "silver is older than bronze (an earlier run stopped half-way)"
    return changed


@schedule(
    name="nightly_warehouse_refresh",
    job_name="warehouse_refresh",
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="01:00 Asia/Ho_Chi_Minh: refresh the sources that landed files, and everything downstream of them.",
)
def nightly_warehouse_refresh(context: ScheduleEvaluationContext, lake_resource: LakeResource):
    changed = changed_sources(context, lake_resource.lake())
    if not changed:
        return SkipReason("No source landed new extracts since its last load; nothing to refresh.")
    graph = context.repository_def.asset_graph
    roots = [AssetKey(["bronze", name]) for name in changed]
    keys = AssetSelection.assets(*roots).downstream().resolve(graph)
    everything = AssetSelection.all().resolve(graph)
    # Anything never built (the first night: seeds, dimensions, maps) means a full build: a dbt test can span a
    # selected model and one that does not exist yet.
    if any(_last_materialized(context, key) is None for key in everything - keys):
        keys = everything
    tick = context.scheduled_execution_time or datetime.now()
    return RunRequest(
        run_key=f"nightly-{tick:%Y-%m-%d}",
        asset_selection=sorted(keys, key=lambda k: k.to_user_string()),
        tags={"warehouse/changed_sources": ",".join(sorted(changed))},
    )


weekly_lake_maintenance = ScheduleDefinition(
    name="weekly_lake_maintenance",
    job=lake_maintenance,
    cron_schedule=WEEKLY_MAINTENANCE_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Sunday 04:00 Asia/Ho_Chi_Minh: compact, vacuum and clean up every Delta table of the lake.",
)

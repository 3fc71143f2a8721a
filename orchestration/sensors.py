"""Live mode: when a file lands, refresh what it changes, end to end (turn `landing_zone_sensor` on in the UI).

Each evaluation asks the one change detector (orchestration/change_detection.py) and requests a `warehouse_refresh`
run of the changed sources and everything downstream of them, up to the shared file and open data. Bursts coalesce:
while a run of the job is queued or running the sensor skips, and the next run takes everything that landed
meanwhile (the detector reads what the lake has ingested, not a cursor of what the sensor saw). A run key per set of
new files keeps a failed run from being started again for the same files.
"""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from orchestration.change_detection import plan_refresh
from orchestration.resources import LakeResource

REFRESH_JOB = "warehouse_refresh"
ACTIVE = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


@sensor(
    job_name=REFRESH_JOB,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Live mode: refreshes the sources whose landing folders got new files, and everything downstream "
    "of them; one run at a time, the next one takes what landed meanwhile.",
)
def landing_zone_sensor(context: SensorEvaluationContext, lake_resource: LakeResource):
    active = context.instance.get_run_records(RunsFilter(job_name=REFRESH_JOB, statuses=ACTIVE), limit=1)
    if active:
        return SkipReason(f"run {active[0].dagster_run.run_id} of {REFRESH_JOB} is not finished yet")
    lake = lake_resource.lake()
    plan = plan_refresh(context.instance, context.repository_def.asset_graph, lake)
    if not plan:
        return SkipReason(f"no new files in {lake.landing}")
    context.log.info(f"refreshing: {plan.reason}")
    return RunRequest(run_key=f"landed-{plan.signature}", asset_selection=list(plan.keys), tags=plan.tags)

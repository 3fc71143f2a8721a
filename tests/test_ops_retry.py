"""The refresh job retries transient step failures, but a dbt error is deterministic and fails at once."""

from dagster import AssetKey

from orchestration.definitions import defs


def test_dbt_error_is_not_retried_by_the_jobs_retry_policy(lake, instance):
    job = defs.resolve_job_def("warehouse_refresh")
    assert job.op_retry_policy is not None and job.op_retry_policy.max_retries >= 1
    # dbt alone on an empty lake: its silver sources do not exist, so `dbt build` fails
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=[AssetKey(["staging", "stg_dossiers"])]
    )
    assert not result.success
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_FAILURE" in events
    assert "STEP_UP_FOR_RETRY" not in events

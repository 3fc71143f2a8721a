"""Dagster wiring of data-subject requests (privacy/): one job per request type, the request id as run config, and
the `privacy/requests` asset whose check fails (and alerts) when a request is past its deadline.

    privacy_access_export   ops: {export_personal_data: {config: {request_id: dsr-…}}}
    privacy_erase           ops: {erase_personal_data: {config: {request_id: dsr-…}}}
    privacy_restrict        ops: {restrict_personal_data: {config: {request_id: dsr-…}}}

Each job is one op in the warehouse pool (every step opens warehouse.duckdb), and the person's values never pass
between ops: Dagster's IO manager would write them to DAGSTER_HOME. Metadata holds counts, never identifiers.
"""

from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Config,
    DefaultScheduleStatus,
    MaterializeResult,
    MetadataValue,
    Output,
    ScheduleDefinition,
    asset,
    define_asset_job,
    job,
    op,
)

from orchestration.alerts import Alert, AlertChannels, deliver
from orchestration.resources import WAREHOUSE_POOL, LakeResource
from privacy.access_export import export_person
from privacy.erasure import erase
from privacy.requests import overdue, read_requests
from privacy.restriction import restrict
from sharing.pseudonym import key_from_env

REQUESTS_KEY = AssetKey(["privacy", "requests"])


class RequestConfig(Config):
    request_id: str  # printed by `python -m privacy.requests file …`


def _done(request_id: str, what: str, counts: dict) -> Output[dict]:
    """Counts only: no identifier in the run's metadata or logs."""
    return Output(counts, metadata={"request_id": request_id, "outcome": what, **counts})


@op(pool=WAREHOUSE_POOL)
def export_personal_data(config: RequestConfig, lake_resource: LakeResource) -> Output[dict]:
    outcome = export_person(lake_resource.lake(), config.request_id, key_from_env())
    counts = {"items": outcome["items"], "sources": len(outcome["sources"]), **outcome["by_layer"]}
    return _done(config.request_id, f"privacy/exports/{config.request_id}/", counts)


@op(pool=WAREHOUSE_POOL)
def erase_personal_data(config: RequestConfig, lake_resource: LakeResource) -> Output[dict]:
    receipt = erase(lake_resource.lake(), config.request_id, key_from_env())
    counts = {
        "lake_rows_deleted": sum(r["rows"] for r in receipt["lake"]),
        "warehouse_rows_deleted_or_redacted": sum(h["rows"] for h in receipt["warehouse"]),
        "quality_files_redacted": len(receipt["quality"]["files_redacted"]),
        "hits_after": len(receipt["scan_after"]["shared_file"].get("person_hits", {}))
        + len(receipt["scan_after"]["exports"]["person_hits"]),
    }
    return _done(config.request_id, f"privacy/receipts/{config.request_id}.json", counts)


@op(pool=WAREHOUSE_POOL)
def restrict_personal_data(config: RequestConfig, lake_resource: LakeResource) -> Output[dict]:
    receipt = restrict(lake_resource.lake(), config.request_id, key_from_env())
    counts = {"shared_rows_with_pseudonym": sum(receipt["pseudonym_rows_in_shared_file"].values())}
    return _done(config.request_id, f"privacy/receipts/{config.request_id}.json", counts)


@job(description="Yêu cầu truy cập: xuất mọi dữ liệu về một người (JSON + tóm tắt tiếng Việt), tầng hạn chế.")
def privacy_access_export():
    export_personal_data()


@job(description="Yêu cầu xoá: xoá một người khỏi mọi tầng, dọn lịch sử Delta, quét lại, ghi biên nhận.")
def privacy_erase():
    erase_personal_data()


@job(description="Yêu cầu hạn chế xử lý: giữ ở tầng hạn chế, loại khỏi mọi dữ liệu chia sẻ và công bố.")
def privacy_restrict():
    restrict_personal_data()


@asset(
    key=REQUESTS_KEY,
    group_name="privacy",
    description="Data-subject requests (lake/privacy/requests): counts by type and status; its check fails when one "
    "is past its deadline and not completed.",
    check_specs=[AssetCheckSpec("deadlines_met", asset=REQUESTS_KEY)],
)
def privacy_requests(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
    requests = read_requests(lake_resource.lake())
    late = overdue(requests)
    counts = {f"{t}_{s}": n for t, s, n in requests.group_by("type", "status").len().sort("type", "status").iter_rows()}
    listed = [
        f"{r['request_id']} ({r['type']}, hạn {r['deadline']:%Y-%m-%d %H:%M} UTC)" for r in late.iter_rows(named=True)
    ]
    message = (
        f"{late.height} yêu cầu của chủ thể dữ liệu đã quá hạn mà chưa hoàn thành: " + "; ".join(listed)
        if listed
        else "Không có yêu cầu nào quá hạn."
    )
    if listed:
        alert = Alert(
            job=context.run.job_name,
            run_id=context.run.run_id,
            failed_steps={"privacy/requests:deadlines_met": message},
            run_error=message,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        sent = deliver(alert, AlertChannels.from_env())
        context.log.warning(f"{message} (cảnh báo gửi tới {sent or 'không kênh nào'})")
    return MaterializeResult(
        metadata={"requests": requests.height, "overdue": late.height, **counts},
        check_results=[
            AssetCheckResult(
                check_name="deadlines_met",
                passed=not listed,
                severity=AssetCheckSeverity.ERROR,
                description=message,
                metadata={"overdue": MetadataValue.json([r["request_id"] for r in late.iter_rows(named=True)])},
            )
        ],
    )


privacy_deadlines = define_asset_job(
    "privacy_deadlines", selection=[REQUESTS_KEY], description="Check data-subject request deadlines."
)
privacy_deadline_check = ScheduleDefinition(
    name="privacy_deadline_check",
    job=privacy_deadlines,
    cron_schedule="0 * * * *",  # hourly: the shortest deadline is 72 hours
    execution_timezone="Asia/Ho_Chi_Minh",
    default_status=DefaultScheduleStatus.RUNNING,
)
privacy_jobs = [privacy_access_export, privacy_erase, privacy_restrict, privacy_deadlines]

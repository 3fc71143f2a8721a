"""The request store and its deadline check: a request past its deadline and not completed fails
`privacy/requests:deadlines_met` and is alerted, without its CCCD."""

import json
from datetime import UTC, datetime, timedelta

from dagster import materialize

from orchestration.privacy_jobs import privacy_requests
from orchestration.resources import LakeResource
from privacy.requests import complete_request, file_request, read_requests

CCCD = "019051634163"


def _check(lake, instance):
    result = materialize([privacy_requests], instance=instance, resources={"lake_resource": LakeResource.from_env()})
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_overdue_request_fails_check_and_alerts(lake, instance, pseudonym_key, monkeypatch, tmp_path):
    alerts = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("TN_ALERT_LOG", str(alerts))
    key = pseudonym_key.encode()
    late = file_request(lake, "erase", CCCD, key, deadline_hours=72, now=datetime.now(UTC) - timedelta(hours=73))
    on_time = file_request(lake, "access", CCCD, key)
    evaluation = _check(lake, instance)
    assert not evaluation.passed and late.request_id in evaluation.description
    assert on_time.request_id not in evaluation.description
    [alert] = [json.loads(line) for line in alerts.read_text(encoding="utf-8").splitlines()]
    assert late.request_id in alert["run_error"] and CCCD not in json.dumps(alert)

    complete_request(lake, late.request_id, "done", forget_cccd=True)
    assert _check(lake, instance).passed
    stored = read_requests(lake).filter(request_id=late.request_id)
    assert stored["cccd"].item() is None and stored["status"].item() == "completed"

"""Problem alerts through the real channels (alert log + a real SMTP server on loopback): a failed blocking gate
sends one mail, none while it stays failed, one "resolved" when the department's corrected file clears it; a
source past its freshness SLA alerts once. The gate runs in the real refresh job (bronze, silver and their GX
suites for the selected source)."""

import json
import time
from datetime import timedelta

import pytest
from dagster import AssetKey, build_sensor_context

from departments.alerts import newest_delivery
from departments.paths import DepartmentPaths
from ingestion.sample_data import generate
from orchestration.department_assets import alert_problems, department_problem_alerts
from orchestration.ingestion_assets import CATALOG
from orchestration.resources import LakeResource
from orchestration.run_pipeline import run_refresh
from tests.test_ops_alerts import smtp_server  # noqa: F401  (the loopback SMTP fixture)

ENTERPRISES = [AssetKey(["bronze", "enterprises"]), AssetKey(["silver", "enterprises"])]


@pytest.fixture
def channels(smtp_server, tmp_path, monkeypatch):  # noqa: F811
    host, port, inbox = smtp_server
    inbox.messages.clear()
    monkeypatch.setenv("TN_ALERT_LOG", str(tmp_path / "alerts.jsonl"))
    monkeypatch.setenv("TN_SMTP_HOST", host)
    monkeypatch.setenv("TN_SMTP_PORT", str(port))
    monkeypatch.setenv("TN_ALERT_TO", "ioc-ops@thainguyen.gov.vn")
    monkeypatch.setenv("TN_ALERT_FROM", "dagster@kho-du-lieu.thainguyen.gov.vn")
    from orchestration.alerts import AlertChannels

    return AlertChannels.from_env(), inbox


def _mails(inbox, expected: int) -> list:
    deadline = time.monotonic() + 10
    while len(inbox.messages) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # and nothing more arrives
    mails = [m for _, _, m in inbox.messages]
    inbox.messages.clear()
    return mails


@pytest.fixture
def enterprises(tmp_path) -> list[dict]:
    """The generated sample's enterprise registry (real MST check digits, real CCCD provinces)."""
    generate(tmp_path / "sample", scale="tiny", seed=7)
    (path,) = (tmp_path / "sample" / "enterprises").glob("*.ndjson")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _land(lake, name: str, records: list[dict]) -> None:
    folder = lake.landing / "enterprises"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _with_bad_cccd(records: list[dict]) -> tuple[list[dict], str]:
    """One representative's CCCD (1 of 20: past the 1 % gate) issued in province 99, which does not exist."""
    first = next(r for r in records if r.get("cccd_nguoi_dai_dien"))
    bad = "099" + first["cccd_nguoi_dai_dien"][3:]
    return [{**r, "cccd_nguoi_dai_dien": bad} if r is first else r for r in records], bad


def test_failed_gate_mails_once_and_once_more_when_resolved(lake, instance, channels, enterprises):
    channels, inbox = channels
    broken, bad_cccd = _with_bad_cccd(enterprises)
    _land(lake, "enterprises_20261030.ndjson", broken)
    failed = run_refresh(instance, asset_selection=ENTERPRISES)
    gate = [e for e in failed.get_asset_check_evaluations() if e.asset_check_key.name == "gx_silver_suite"]
    assert len(gate) == 1 and not gate[0].passed and gate[0].blocking

    sensor = department_problem_alerts(
        build_sensor_context(instance=instance, resources={"lake_resource": LakeResource.from_env()})
    )
    assert "1 alert(s) sent" in sensor.skip_message, DepartmentPaths.of(lake).open_problems.read_text()
    (opened,) = _mails(inbox, 1)
    assert opened["Subject"].startswith("[Kho dữ liệu Thái Nguyên] Cảnh báo: Kiểm tra chặn không đạt")
    body = opened.get_content()
    assert "Sở Tài chính (đăng ký kinh doanh)" in body and "Bộ dữ liệu: enterprises" in body
    assert "Quy tắc: gx_silver_suite: cccd" in body and "cột legal_rep_cccd" in body and "Số lượng: 1 " in body
    assert bad_cccd not in body and bad_cccd not in (lake.root / "alerts" / "open_problems.json").read_text()
    print(f"\n--- opened ---\nSubject: {opened['Subject']}\n{body}")

    now = newest_delivery(lake, CATALOG["enterprises"])
    assert alert_problems(lake, instance, channels, now + timedelta(minutes=5)) == []  # still failed: quiet
    still = run_refresh(instance, asset_selection=ENTERPRISES)  # the check runs again, fails again
    assert not [e for e in still.get_asset_check_evaluations() if e.asset_check_key.name == "gx_silver_suite"][0].passed
    assert alert_problems(lake, instance, channels, now + timedelta(minutes=10)) == []
    assert _mails(inbox, 0) == []

    _land(lake, "enterprises_20261031.ndjson", enterprises)  # the department's correction (upsert)
    fixed = run_refresh(instance, asset_selection=ENTERPRISES)
    assert [e for e in fixed.get_asset_check_evaluations() if e.asset_check_key.name == "gx_silver_suite"][0].passed
    resolved = alert_problems(lake, instance, channels, now + timedelta(minutes=15))
    assert [a.status for a in resolved] == ["resolved"]
    (closed,) = _mails(inbox, 1)
    assert closed["Subject"].startswith("[Kho dữ liệu Thái Nguyên] Đã khắc phục: Kiểm tra chặn không đạt")
    assert "Vấn đề đã được khắc phục." in closed.get_content()
    print(f"--- resolved ---\nSubject: {closed['Subject']}\n{closed.get_content()}")
    assert json.loads(DepartmentPaths.of(lake).open_problems.read_text()) == {}
    logged = [json.loads(line) for line in channels.log_file.read_text(encoding="utf-8").splitlines()]
    assert [(e["status"], e["dataset"]) for e in logged] == [("open", "enterprises"), ("resolved", "enterprises")]


def test_stale_source_alerts_once(lake, instance, channels, enterprises):
    channels, inbox = channels
    _land(lake, "enterprises_20261030.ndjson", enterprises)
    assert run_refresh(instance, asset_selection=ENTERPRISES).success
    delivered = newest_delivery(lake, CATALOG["enterprises"])
    assert alert_problems(lake, instance, channels, delivered + timedelta(hours=23)) == []  # within 24 h

    late = alert_problems(lake, instance, channels, delivered + timedelta(hours=25))
    assert [(a.status, a.kind, a.dataset) for a in late] == [("open", "freshness", "enterprises")]
    (mail,) = _mails(inbox, 1)
    assert mail["Subject"].startswith("[Kho dữ liệu Thái Nguyên] Cảnh báo: Dữ liệu quá hạn cập nhật")
    body = mail.get_content()
    assert "Sở Tài chính (đăng ký kinh doanh)" in body and "mỗi 24 giờ" in body and "Số lượng: 25 giờ" in body
    print(f"\n--- stale ---\nSubject: {mail['Subject']}\n{body}")
    assert alert_problems(lake, instance, channels, delivered + timedelta(hours=30)) == []
    assert _mails(inbox, 0) == []

    _land(lake, "enterprises_20261031.ndjson", enterprises[:5])  # the next delivery
    assert run_refresh(instance, asset_selection=ENTERPRISES).success
    fresh = newest_delivery(lake, CATALOG["enterprises"])
    assert [a.status for a in alert_problems(lake, instance, channels, fresh + timedelta(hours=1))] == ["resolved"]
    assert len(_mails(inbox, 1)) == 1

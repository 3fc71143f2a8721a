"""A refresh that fails because an analyst holds the DuckDB file: a clear failure (file + holder), not a lock
crash inside dbt, and the run-failure sensor writes it to the alert log and mails it through a real SMTP server
(aiosmtpd) on loopback."""

import json
import socket
import subprocess
import sys
import time
from email import message_from_bytes, policy

import duckdb
import pytest
from aiosmtpd.controller import Controller
from dagster import DagsterInstance, build_run_status_sensor_context

from orchestration.alerts import AlertChannels, alert_on_run_failure
from orchestration.resources import warehouse_lock_error
from orchestration.run_pipeline import run_refresh
from tests.pipeline_run import sample_lake_in

WAREHOUSE_STEP = "silver_views"  # the first step that writes warehouse.duckdb: it points the silver views for dbt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.mail_from, envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp_server():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.hostname, controller.port, inbox
    controller.stop()


def _hold_open(path) -> subprocess.Popen:
    """An analyst's session: the file opened read-only, as the README tells them to, and kept open."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); time.sleep(600)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    return holder


@pytest.fixture(scope="module")
def locked_run(tmp_path_factory):
    """One refresh run against a lake whose warehouse file an analyst holds open (shared by the tests here)."""
    root = tmp_path_factory.mktemp("locked")
    with sample_lake_in(root) as lake:
        lake.root.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(lake.warehouse)).close()  # an existing warehouse file
        holder = _hold_open(lake.warehouse)
        instance = DagsterInstance.ephemeral()
        try:
            started = time.monotonic()
            result = run_refresh(instance)
            elapsed = time.monotonic() - started
            yield lake, holder.pid, result, instance, elapsed
        finally:
            holder.kill()
            holder.wait()
            instance.dispose()


def test_lock_check_names_the_file_and_the_holding_process(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    assert warehouse_lock_error(path) is None  # no file yet: nothing to hold
    duckdb.connect(str(path)).close()
    assert warehouse_lock_error(path) is None  # free
    holder = _hold_open(path)
    try:
        failure = warehouse_lock_error(path)
    finally:
        holder.kill()
        holder.wait()
    assert failure is not None and not failure.allow_retries
    assert str(path) in failure.description and f"process {holder.pid}" in failure.description
    assert failure.metadata["lock_holder_pid"].value == holder.pid
    assert warehouse_lock_error(path) is None  # released when the analyst closes


def test_refresh_fails_at_the_warehouse_with_a_clear_message_and_is_not_retried(locked_run):
    lake, pid, result, _, elapsed = locked_run
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == [WAREHOUSE_STEP]
    message = failures[0].step_failure_data.user_failure_data.description
    assert str(lake.warehouse) in message and f"process {pid}" in message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    # bronze and silver still landed; nothing downstream of dbt ran
    landed = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"bronze/dossiers", "silver/dossiers"} <= landed
    assert not any(k.startswith(("marts/", "published/")) for k in landed)
    print(f"locked refresh failed after {elapsed:.1f}s")


def test_failure_alert_reaches_log_file_and_smtp_inbox(locked_run, smtp_server, tmp_path, monkeypatch):
    _, pid, result, instance, _ = locked_run
    host, port, inbox = smtp_server
    alert_log = tmp_path / "alerts" / "failures.jsonl"
    monkeypatch.setenv("TN_ALERT_LOG", str(alert_log))
    monkeypatch.setenv("TN_SMTP_HOST", host)
    monkeypatch.setenv("TN_SMTP_PORT", str(port))
    monkeypatch.setenv("TN_ALERT_TO", "ioc-ops@thainguyen.gov.vn, data-team@thainguyen.gov.vn")
    monkeypatch.setenv("TN_ALERT_FROM", "dagster@kho-du-lieu.thainguyen.gov.vn")
    monkeypatch.setenv("TN_DAGSTER_URL", "http://dagster.internal:3000/")

    context = build_run_status_sensor_context(
        sensor_name=alert_on_run_failure.name,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()
    alert_on_run_failure(context)

    logged = [json.loads(line) for line in alert_log.read_text(encoding="utf-8").splitlines()]
    assert len(logged) == 1
    assert logged[0]["run_id"] == result.run_id and list(logged[0]["failed_steps"]) == [WAREHOUSE_STEP]
    assert f"process {pid}" in logged[0]["failed_steps"][WAREHOUSE_STEP]

    deadline = time.monotonic() + 10
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(inbox.messages) == 1
    mail_from, rcpt, mail = inbox.messages[0]
    assert mail_from == "dagster@kho-du-lieu.thainguyen.gov.vn"
    assert rcpt == ["ioc-ops@thainguyen.gov.vn", "data-team@thainguyen.gov.vn"]
    assert WAREHOUSE_STEP in mail["Subject"] and "warehouse_refresh" in mail["Subject"]
    body = mail.get_content()
    assert f"Run id: {result.run_id}" in body and f"Failed step: {WAREHOUSE_STEP}" in body
    assert f"http://dagster.internal:3000/runs/{result.run_id}" in body
    assert "warehouse.duckdb" in body


def test_alert_channels_come_only_from_the_environment():
    channels = AlertChannels.from_env(
        {
            "TN_SMTP_HOST": "smtp.thainguyen.gov.vn",
            "TN_SMTP_STARTTLS": "true",
            "TN_SMTP_USER": "dagster",
            "TN_SMTP_PASSWORD": "s3cret",
            "TN_ALERT_TO": "a@x.vn,b@x.vn",
        }
    )
    assert channels.smtp_port == 587 and channels.starttls and channels.recipients == ("a@x.vn", "b@x.vn")
    assert "s3cret" not in repr(channels)
    assert AlertChannels.from_env({}).log_file is None and not AlertChannels.from_env({}).recipients

"""Alerts to the channels operations configures through the environment: failed runs (the sensor below) and the
departments' problems (failed gates, late sources: orchestration/department_assets.py), both through `deliver`.

    TN_ALERT_LOG        file that receives one JSON line per alert (appended)
    TN_SMTP_HOST        SMTP server; with TN_ALERT_TO set, every failed run is mailed
    TN_SMTP_PORT        default 25 (587 with TN_SMTP_STARTTLS=true, 465 with TN_SMTP_SSL=true)
    TN_SMTP_USER / TN_SMTP_PASSWORD   credentials, only ever from the environment
    TN_ALERT_TO         comma-separated recipients;  TN_ALERT_FROM  sender (default dagster@<host>)
    TN_DAGSTER_URL      base URL of the Dagster UI, to put a link to the run in the alert

With none set, the sensor only logs. The sensor is RUNNING by default, so `dagster dev` / the daemon evaluate it.
"""

import email.policy
import json
import os
import smtplib
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor


@dataclass(frozen=True)
class AlertChannels:
    log_file: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    sender: str = ""
    recipients: tuple[str, ...] = ()
    ui_url: str | None = None

    @classmethod
    def from_env(cls, environ=os.environ) -> "AlertChannels":
        flag = lambda name: environ.get(name, "").lower() in ("1", "true", "yes")  # noqa: E731
        ssl, starttls = flag("TN_SMTP_SSL"), flag("TN_SMTP_STARTTLS")
        return cls(
            log_file=Path(environ["TN_ALERT_LOG"]) if environ.get("TN_ALERT_LOG") else None,
            smtp_host=environ.get("TN_SMTP_HOST") or None,
            smtp_port=int(environ.get("TN_SMTP_PORT") or (465 if ssl else 587 if starttls else 25)),
            smtp_user=environ.get("TN_SMTP_USER") or None,
            smtp_password=environ.get("TN_SMTP_PASSWORD") or None,
            starttls=starttls,
            ssl=ssl,
            sender=environ.get("TN_ALERT_FROM") or f"dagster@{socket.getfqdn()}",
            recipients=tuple(a.strip() for a in environ.get("TN_ALERT_TO", "").split(",") if a.strip()),
            ui_url=(environ.get("TN_DAGSTER_URL") or "").rstrip("/") or None,
        )


@dataclass(frozen=True)
class Alert:
    job: str
    run_id: str
    failed_steps: dict[str, str]  # step key → error message
    run_error: str
    at: str

    @property
    def subject(self) -> str:
        steps = ", ".join(self.failed_steps) or "run"
        return f"[Kho dữ liệu Thái Nguyên] {self.job} failed: {steps} (run {self.run_id[:8]})"

    def body(self, ui_url: str | None) -> str:
        lines = [f"Job {self.job} failed at {self.at}.", f"Run id: {self.run_id}"]
        if ui_url:
            lines.append(f"Run: {ui_url}/runs/{self.run_id}")
        for step, message in self.failed_steps.items():
            lines += ["", f"Failed step: {step}", message.strip()]
        if not self.failed_steps:
            lines += ["", self.run_error]
        return "\n".join(lines) + "\n"


def alert_from_context(context: RunFailureSensorContext) -> Alert:
    steps = {}
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error if event.step_failure_data else None
        user = event.step_failure_data.user_failure_data if event.step_failure_data else None
        message = (user.description if user and user.description else None) or (
            error.message if error else event.message or ""
        )
        steps[event.step_key] = message
    return Alert(
        job=context.dagster_run.job_name,
        run_id=context.dagster_run.run_id,
        failed_steps=steps,
        run_error=context.failure_event.message or "",
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


class Deliverable(Protocol):
    """An alert `deliver` can send: a subject and a body; its fields (`__dict__`) make the alert log's JSON line."""

    @property
    def subject(self) -> str: ...

    def body(self, ui_url: str | None) -> str: ...


def deliver(alert: Deliverable, channels: AlertChannels) -> list[str]:
    """Send `alert` to every configured channel; returns where it went."""
    sent = []
    if channels.log_file:
        channels.log_file.parent.mkdir(parents=True, exist_ok=True)
        with channels.log_file.open("a", encoding="utf-8") as log:
            log.write(json.dumps({"subject": alert.subject, **alert.__dict__}, ensure_ascii=False) + "\n")
        sent.append(str(channels.log_file))
    if channels.smtp_host and channels.recipients:
        # Unfolded (RFC 5322 allows 998 characters): Python's folding drops the space at a fold between encoded
        # words, and Vietnamese subjects lost spaces in the reader's inbox.
        mail = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
        mail["Subject"], mail["From"], mail["To"] = alert.subject, channels.sender, ", ".join(channels.recipients)
        mail.set_content(alert.body(channels.ui_url))
        smtp_class = smtplib.SMTP_SSL if channels.ssl else smtplib.SMTP
        with smtp_class(channels.smtp_host, channels.smtp_port, timeout=30) as smtp:
            if channels.starttls:
                smtp.starttls()
            if channels.smtp_user:
                smtp.login(channels.smtp_user, channels.smtp_password or "")
            smtp.send_message(mail)
        sent.append(f"smtp://{channels.smtp_host}:{channels.smtp_port}")
    return sent


@run_failure_sensor(
    name="alert_on_run_failure",
    default_status=DefaultSensorStatus.RUNNING,
    description="Writes every failed run (job, run id, failing steps) to TN_ALERT_LOG and mails "
    "TN_ALERT_TO through TN_SMTP_HOST.",
)
def alert_on_run_failure(context: RunFailureSensorContext):
    alert = alert_from_context(context)
    sent = deliver(alert, AlertChannels.from_env())
    context.log.info(f"alert for run {alert.run_id} sent to {sent or 'no channel (set TN_ALERT_LOG / TN_SMTP_HOST)'}")

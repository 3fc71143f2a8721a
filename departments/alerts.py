"""Alerts for the problems a department has to act on: a blocking quality gate that failed, and a source past its
freshness SLA. One alert when a problem opens, none while it stays open, one "resolved" when it clears; the open
problems are kept in `lake/alerts/open_problems.json` (DepartmentPaths.open_problems).

A problem names the department, the dataset, the rule and a count, never a value: the gate's samples stay in the
restricted tier.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

from departments.local_time import shown
from ingestion.catalog import Source
from ingestion.lake import Lake


@dataclass(frozen=True)
class Problem:
    key: str  # stable identity: gate:<check key>:<rule>:<column> or freshness:<source>
    scope: str  # what was looked at to find it (a check key, or freshness:<source>): only a look can resolve it
    kind: str  # gate | freshness
    department: str
    dataset: str
    rule: str
    count: int
    unit: str  # what `count` counts, in Vietnamese (dòng, giờ, ...)


@dataclass(frozen=True)
class ProblemAlert:
    """What `orchestration.alerts.deliver` sends: a subject, a body, and fields for the alert log's JSON line."""

    status: str  # open | resolved
    key: str
    kind: str
    department: str
    dataset: str
    rule: str
    count: int
    unit: str
    at: str

    @property
    def subject(self) -> str:
        head = "Cảnh báo" if self.status == "open" else "Đã khắc phục"
        what = "Kiểm tra chặn không đạt" if self.kind == "gate" else "Dữ liệu quá hạn cập nhật"
        return f"[Kho dữ liệu Thái Nguyên] {head}: {what} – {self.department} – {self.dataset}"

    def body(self, ui_url: str | None) -> str:
        lines = [
            f"Đơn vị: {self.department}",
            f"Bộ dữ liệu: {self.dataset}",
            f"Quy tắc: {self.rule}",
            f"Số lượng: {self.count:,} {self.unit}".replace(",", "."),
            f"Thời điểm: {shown(datetime.fromisoformat(self.at))} (giờ Việt Nam)",
        ]
        if self.status == "open":
            lines.append(
                "Dữ liệu phía sau kiểm tra này đang bị dừng cho đến khi được sửa."
                if self.kind == "gate"
                else "Đề nghị đơn vị gửi bản cập nhật mới."
            )
        else:
            lines.append("Vấn đề đã được khắc phục.")
        if ui_url:
            lines.append(f"Dagster: {ui_url}/assets")
        return "\n".join(lines) + "\n"


def newest_delivery(lake: Lake, source: Source) -> datetime | None:
    """The newest `_ingested_at` in the source's silver table: when its latest data arrived (a refresh with no new
    file re-materializes silver, so the materialization time would not show a department that stopped sending)."""
    path = lake.silver(source.name)
    options = lake.storage_options_for(path) or None
    if not DeltaTable.is_deltatable(str(path), storage_options=options):
        return None
    return pl.scan_delta(str(path), storage_options=options).select(pl.col("_ingested_at").max()).collect().item()


def stale_sources(lake: Lake, sources: list[Source], now: datetime) -> tuple[list[Problem], set[str]]:
    """Sources whose newest delivery is older than their contract's `freshness_hours`. A source that never delivered
    is not alerted on (the page shows it): a source being set up would alert from its first minute."""
    problems, scopes = [], set()
    for source in sources:
        newest = newest_delivery(lake, source)
        if newest is None:
            continue
        scope = f"freshness:{source.name}"
        scopes.add(scope)
        age = (now - newest).total_seconds() / 3600
        if age > source.freshness_hours:
            problems.append(
                Problem(
                    key=scope,
                    scope=scope,
                    kind="freshness",
                    department=source.department,
                    dataset=source.name,
                    rule=f"cập nhật ít nhất mỗi {source.freshness_hours} giờ (freshness_hours)",
                    count=int(age),
                    unit="giờ kể từ lần gửi gần nhất",
                )
            )
    return problems, scopes


def load_open(path: Path) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_open(path: Path, problems: dict[str, dict]) -> None:
    """Written whole through a temporary file, so a crash never leaves half a state (and repeated alerts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(problems, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def transitions(
    open_problems: dict[str, dict], found: list[Problem], looked_at: set[str], at: datetime
) -> tuple[list[ProblemAlert], dict[str, dict]]:
    """(alerts to send, open problems after them): new problems open, open ones whose scope was looked at and that
    were not found again are resolved; the others stay as they are, unannounced."""
    stamp = at.isoformat(timespec="seconds")
    alerts, still_open = [], dict(open_problems)
    current = {p.key: p for p in found}
    for key, problem in current.items():
        if key not in still_open:
            still_open[key] = {**asdict(problem), "opened_at": stamp}
            alerts.append(_alert("open", asdict(problem), stamp))
    for key, problem in open_problems.items():
        if key not in current and problem["scope"] in looked_at:
            del still_open[key]
            alerts.append(_alert("resolved", problem, stamp))
    return alerts, still_open


def _alert(status: str, problem: dict, stamp: str) -> ProblemAlert:
    fields = {k: problem[k] for k in ("key", "kind", "department", "dataset", "rule", "count", "unit")}
    return ProblemAlert(status=status, at=stamp, **fields)

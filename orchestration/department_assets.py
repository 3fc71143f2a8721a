"""Dagster wiring of the loop back to departments (logic in `departments/`):

- `departments/receipts/<source>` (one asset per source, after its silver asset): receipts and rejection reports for
  the source's files not yet receipted, in lake/outbox/<department>/<source>/. One per source, so a source whose
  gate blocks does not hold back the other departments' receipts.
- `quality/leaders_page` (after `quality/scorecard`): lake/quality/leaders/index.html.
- `department_problem_alerts` (sensor, every 5 min): failed blocking gates and sources past their freshness SLA,
  through the alert channels of orchestration/alerts.py, once per problem and once when it is resolved. A sensor
  rather than a step of the refresh: a department that stops sending starts no run, and a nightly schedule that
  skips a quiet night would never notice it.
"""

from datetime import UTC, datetime

from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DagsterInstance,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    SensorEvaluationContext,
    SkipReason,
    asset,
    sensor,
)

from departments.alerts import Problem, load_open, save_open, stale_sources, transitions
from departments.page import write_page
from departments.paths import DepartmentPaths
from departments.receipts import send_receipts
from ingestion.catalog import Source
from ingestion.lake import Lake
from orchestration.alerts import AlertChannels, deliver
from orchestration.ingestion_assets import CATALOG, ingestion_assets, silver_key
from orchestration.quality_checks import ON_TIME_MART, quality_checks
from orchestration.quality_scorecard import SCORECARD
from orchestration.resources import WAREHOUSE_POOL, LakeResource

LEADERS_PAGE = AssetKey(["quality", "leaders_page"])
# Checks on assets that are not a source's bronze/silver, by the source whose data they judge.
CHECKED_SOURCE = {ON_TIME_MART: "dossiers"}


def receipts_key(source: Source) -> AssetKey:
    return AssetKey(["departments", "receipts", source.name])


def build_receipts_asset(source: Source) -> AssetsDefinition:
    @asset(
        key=receipts_key(source),
        deps=[silver_key(source)],
        group_name="departments",
        kinds={"xlsx", "csv"},
        description=f"Biên nhận và báo cáo dòng bị từ chối cho từng tệp của {source.department} ({source.title}), "
        f"in lake/outbox/: counts, and every rejected row with its line, header, masked value, reason and fix.",
    )
    def receipts(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
        lake = lake_resource.lake()
        outbox = DepartmentPaths.of(lake).source_outbox(source.department, source.name)
        written = send_receipts(lake, source)
        context.log.info(f"{source.name}: {len(written)} receipt(s) written")
        return MaterializeResult(
            metadata={
                "receipts_written": len(written),
                "rejected_rows": sum(r.rejected for r in written),
                "files_unreadable": sum(1 for r in written if r.file_problem),
                "outbox": MetadataValue.path(str(outbox)),
            }
        )

    return receipts


@asset(
    key=LEADERS_PAGE,
    deps=[SCORECARD],
    group_name="quality",
    kinds={"html"},
    pool=WAREHOUSE_POOL,  # reads the warehouse file
    description="Trang chất lượng dữ liệu cho lãnh đạo: lake/quality/leaders/index.html (static, opens offline).",
)
def leaders_page(context: AssetExecutionContext, lake_resource: LakeResource) -> MaterializeResult:
    path, data = write_page(lake_resource.lake(), CATALOG, datetime.now(UTC))
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(path),
            "day": str(data.day),
            "departments": data.departments.height,
            "stale_sources": data.freshness.filter(~data.freshness["fresh"].fill_null(False)).height,
        }
    )


def _checks() -> dict[AssetCheckKey, Source]:
    checks = {}
    for definition in [*ingestion_assets, *quality_checks]:
        for key in definition.check_keys:
            name = CHECKED_SOURCE.get(key.asset_key) or key.asset_key.path[-1]
            if name in CATALOG:
                checks[key] = CATALOG[name]
    return checks


def failed_gates(instance: DagsterInstance) -> tuple[list[Problem], set[str]]:
    """Problems of the blocking checks whose latest evaluation failed with ERROR severity: one per critical
    expectation of a GX suite, one per check otherwise; and the checks that were looked at (evaluated)."""
    problems, looked_at = [], set()
    for key, source in _checks().items():
        record = instance.get_latest_asset_check_evaluation_record(key)
        evaluation = record.evaluation if record else None
        if evaluation is None:
            continue  # never run, or running now: its open problems stay as they are
        scope = key.to_user_string()
        looked_at.add(scope)
        if evaluation.passed or not evaluation.blocking or evaluation.severity != AssetCheckSeverity.ERROR:
            continue
        metadata = {name: value.value for name, value in evaluation.metadata.items()}
        failed = [e for e in metadata.get("failed_expectations") or [] if e.get("severity") == "critical"]
        if failed:
            for expectation in failed:
                column = expectation.get("column") or ""
                problems.append(
                    Problem(
                        key=f"gate:{scope}:{expectation['rule']}:{column}",
                        scope=scope,
                        kind="gate",
                        department=source.department,
                        dataset=source.name,
                        rule=f"{key.name}: {expectation['rule']}" + (f" (cột {column})" if column else ""),
                        count=int(expectation.get("unexpected_count") or 0),
                        unit="giá trị không đạt",
                    )
                )
            continue
        count, unit = _reconcile_count(metadata)
        problems.append(Problem(f"gate:{scope}", scope, "gate", source.department, source.name, key.name, count, unit))
    return problems, looked_at


def _reconcile_count(metadata: dict) -> tuple[int, str]:
    if "problems" in metadata:
        return len(metadata["problems"] or []), "tệp không khớp số dòng"
    if "bronze_rows" in metadata and "silver_rows" in metadata:
        accounted = sum(int(metadata.get(k) or 0) for k in ("silver_rows", "quarantined_rows", "superseded_rows"))
        return abs(int(metadata["bronze_rows"]) - accounted), "dòng không được ghi nhận"
    return 1, "lần kiểm tra không đạt"


def alert_problems(lake: Lake, instance: DagsterInstance, channels: AlertChannels, now: datetime) -> list:
    """Look for problems, send the openings and resolutions, keep the open ones; returns the alerts sent."""
    gates, gates_looked = failed_gates(instance)
    stale, stale_looked = stale_sources(lake, list(CATALOG.values()), now)
    state = DepartmentPaths.of(lake).open_problems
    alerts, still_open = transitions(load_open(state), [*gates, *stale], gates_looked | stale_looked, now)
    for alert in alerts:
        deliver(alert, channels)
    save_open(state, still_open)
    return alerts


@sensor(
    name="department_problem_alerts",
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts (TN_ALERT_LOG, TN_SMTP_*) once per failed blocking gate and per source past its freshness "
    "SLA, naming department, dataset, rule and count; once more when it is resolved.",
)
def department_problem_alerts(context: SensorEvaluationContext, lake_resource: LakeResource):
    alerts = alert_problems(lake_resource.lake(), context.instance, AlertChannels.from_env(), datetime.now(UTC))
    for alert in alerts:
        context.log.info(f"{alert.status}: {alert.subject}")
    return SkipReason(f"{len(alerts)} alert(s) sent" if alerts else "no problem opened or resolved")


receipts_assets = [build_receipts_asset(source) for source in CATALOG.values()]
department_assets = [*receipts_assets, leaders_page]

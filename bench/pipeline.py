"""One `warehouse_refresh` run through Dagster, in process (as launched runs execute too: the code location's executor
is `in_process_executor`), with per-step timings read from the run's event log.

    TN_LAKE_DIR=... DAGSTER_HOME=... python -m bench.pipeline RESULT_JSON [--incremental]

`--incremental` runs what the nightly schedule would (orchestration/change_detection.py: the sources with new
landing files and what is downstream of them); without it, the whole `warehouse_refresh` job.

Rows per step: bronze → rows appended, silver → rows typed and checked (the new batch), a check → rows validated,
dbt → the rows of the models it materialized (where dbt reports them).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

ROW_KEYS = ("rows_appended", "batch_rows", "rows_validated", "dagster/row_count")


def _value(metadata: dict, key: str):
    value = metadata.get(key)
    return getattr(value, "value", value)


def step_stats(instance: DagsterInstance, run_id: str) -> list[dict]:
    steps: dict[str, dict] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        step = steps.setdefault(entry.step_key, {"step": entry.step_key, "rows": None, "status": None})
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            step["start"] = entry.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_SKIPPED):
            step["end"] = entry.timestamp
            step["status"] = kind.value.removeprefix("STEP_").lower()
        elif kind in (DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION):
            data = event.event_specific_data
            metadata = (
                data.materialization.metadata if kind == DagsterEventType.ASSET_MATERIALIZATION else data.metadata
            ) or {}
            if metadata.get("loaded_by"):  # partition bookkeeping of an unpartitioned bronze run
                continue
            for key in ROW_KEYS:
                value = _value(metadata, key)
                if isinstance(value, int):
                    if key == "dagster/row_count" and entry.step_key.startswith(("bronze", "silver")):
                        break  # table size, not the work of this step
                    step["rows"] = (
                        (step["rows"] or 0) + value
                        if kind == DagsterEventType.ASSET_MATERIALIZATION
                        else max(step["rows"] or 0, value)
                    )
                    break
    out = []
    for step in steps.values():
        start, end = step.get("start"), step.get("end")
        seconds = (end - start) if start and end else None
        step["seconds"] = round(seconds, 3) if seconds is not None else None
        step["rows_per_second"] = round(step["rows"] / seconds) if step["rows"] and seconds else None
        out.append(step)
    return sorted(out, key=lambda s: -(s["seconds"] or 0))


def main(result_path: Path, incremental: bool) -> int:
    started = time.perf_counter()
    from ingestion.lake import Lake
    from orchestration.change_detection import plan_refresh
    from orchestration.definitions import defs

    imported = time.perf_counter() - started
    with DagsterInstance.get() as instance:
        selection = None
        if incremental:
            plan = plan_refresh(instance, defs.resolve_asset_graph(), Lake.from_env())
            selection = list(plan.keys)
            print(f"incremental: {plan.reason}; {len(selection)} assets selected", flush=True)
            if not selection:
                result_path.write_text(
                    json.dumps(
                        {
                            "success": True,
                            "seconds": round(time.perf_counter() - started, 3),
                            "selected_assets": [],
                            "steps": [],
                        }
                    )
                )
                return 0
        result = defs.resolve_job_def("warehouse_refresh").execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=selection,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
        wall = time.perf_counter() - started
        failed_checks = [
            e.asset_check_key.to_user_string() for e in result.get_asset_check_evaluations() if not e.passed
        ]
        steps = step_stats(instance, result.run_id)
    result_path.write_text(
        json.dumps(
            {
                "run_id": result.run_id,
                "success": result.success,
                "seconds": round(wall, 3),
                "import_seconds": round(imported, 3),
                "selected_assets": [k.to_user_string() for k in selection] if selection is not None else "all",
                "failed_checks": failed_checks,
                "steps": steps,
            },
            indent=2,
            default=str,
        )
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), "--incremental" in sys.argv[2:]))

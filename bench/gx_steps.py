"""Time the GX steps of two refreshes of a sample (the second after one more day of extracts, `bench/extra_day.py`):
every `gx_*` check step and the Data Docs step, from the runs' step events.

    python3 -m uv run --frozen python -m bench.gx_steps [tiny|small]
"""

import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance

from bench.extra_day import add_extra_day
from ingestion.sample_data import generate


def step_seconds(instance: DagsterInstance, run_id: str) -> dict[str, float]:
    """Step key → seconds from its start to its end (success or failure)."""
    started, seconds = {}, defaultdict(float)
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            started[event.step_key] = record.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            seconds[event.step_key] += record.timestamp - started.pop(event.step_key, record.timestamp)
    return dict(seconds)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="tn-gx-steps-"))
    os.environ["TN_LAKE_DIR"] = str(root / "lake")
    os.environ.setdefault("TN_PSEUDONYM_KEY", "bench-only-pseudonym-key-not-for-production-0001")
    from orchestration.dbt_project import prepare_manifest
    from orchestration.run_pipeline import run_refresh

    prepare_manifest()
    scale = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    generate(root / "lake" / "landing", scale=scale, seed=7)
    with DagsterInstance.ephemeral() as instance:
        for refresh in ("first", "extra day"):
            if refresh == "extra day":
                add_extra_day(root / "lake" / "landing", scale, seed=7)
            result = run_refresh(instance)
            steps = step_seconds(instance, result.run_id)
            gx = {k: v for k, v in steps.items() if "gx_" in k or "data_docs" in k}
            print(
                f"{refresh} refresh: success={result.success}; {len(gx)} GX steps {sum(gx.values()):.1f} s, "
                f"all steps {sum(steps.values()):.1f} s"
            )
            for key, value in sorted(gx.items(), key=lambda kv: -kv[1])[:5]:
                print(f"  {key}: {value:.2f} s")


if __name__ == "__main__":
    main()

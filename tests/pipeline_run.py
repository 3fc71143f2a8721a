"""The one way tests get a refreshed lake: a temporary lake with the generated sample extracts (plus whatever a
test lands on top), an ephemeral Dagster instance, and one real `warehouse_refresh`. Module- or session-scoped
fixtures wrap it so several tests read the same run."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from ingestion.lake import Lake
from ingestion.sample_data import generate
from orchestration.run_pipeline import run_refresh


@contextmanager
def refreshed_lake(root: Path, *, prepare: Callable[[Lake], None] | None = None,
                   patch: Callable[[pytest.MonkeyPatch], None] | None = None,
                   ) -> Iterator[tuple[Lake, DagsterInstance, ExecuteInProcessResult]]:
    """(lake, instance, result) of one refresh of the tiny sample (seed 7) in `root`/lake; `patch` runs first (e.g.
    monkeypatching the generator), `prepare` after the extracts are generated (e.g. landing more files)."""
    with pytest.MonkeyPatch.context() as monkeypatch, DagsterInstance.ephemeral() as instance:
        monkeypatch.setenv("TN_LAKE_DIR", str(root / "lake"))
        if patch is not None:
            patch(monkeypatch)
        lake = Lake.from_env()
        generate(lake.landing, scale="tiny", seed=7)
        if prepare is not None:
            prepare(lake)
        yield lake, instance, run_refresh(instance)

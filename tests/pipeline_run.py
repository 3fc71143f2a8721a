"""The one way tests get a lake of their own: a temporary lake (TN_LAKE_DIR) with the generated sample extracts, and,
refreshed, plus an ephemeral Dagster instance and one real `warehouse_refresh`. Module- or session-scoped fixtures
wrap them so several tests read the same run."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from ingestion.lake import Lake
from ingestion.sample_data import generate
from orchestration.run_pipeline import run_refresh


@contextmanager
def sample_lake_in(root: Path, patch: Callable[[pytest.MonkeyPatch], None] | None = None) -> Iterator[Lake]:
    """`root`/lake as the lake (TN_LAKE_DIR, until the block ends) with the tiny sample (seed 7) landed; `patch`
    runs first (e.g. monkeypatching the generator)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TN_LAKE_DIR", str(root / "lake"))
        if patch is not None:
            patch(monkeypatch)
        lake = Lake.from_env()
        generate(lake.landing, scale="tiny", seed=7)
        yield lake


@contextmanager
def refreshed_lake(root: Path, *, prepare: Callable[[Lake], None] | None = None,
                   patch: Callable[[pytest.MonkeyPatch], None] | None = None,
                   ) -> Iterator[tuple[Lake, DagsterInstance, ExecuteInProcessResult]]:
    """(lake, instance, result) of one refresh of the tiny sample (seed 7) in `root`/lake; `patch` runs first (e.g.
    monkeypatching the generator), `prepare` after the extracts are generated (e.g. landing more files)."""
    with sample_lake_in(root, patch) as lake, DagsterInstance.ephemeral() as instance:
        if prepare is not None:
            prepare(lake)
        yield lake, instance, run_refresh(instance)

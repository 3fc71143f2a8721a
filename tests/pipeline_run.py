"""The one way tests get a lake of their own: a temporary lake (TN_LAKE_DIR) with the generated sample extracts, and,
refreshed, plus an ephemeral Dagster instance and one real `warehouse_refresh`. Module- or session-scoped fixtures
wrap them so several tests read the same run."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from ingestion.catalog import load_catalog
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
def refreshed_lake(
    root: Path,
    *,
    prepare: Callable[[Lake], None] | None = None,
    patch: Callable[[pytest.MonkeyPatch], None] | None = None,
) -> Iterator[tuple[Lake, DagsterInstance, ExecuteInProcessResult]]:
    """(lake, instance, result) of one refresh of the tiny sample (seed 7) in `root`/lake; `patch` runs first (e.g.
    monkeypatching the generator), `prepare` after the extracts are generated (e.g. landing more files)."""
    with sample_lake_in(root, patch) as lake, DagsterInstance.ephemeral() as instance:
        if prepare is not None:
            prepare(lake)
        yield lake, instance, run_refresh(instance)


def land_registry_update(lake: Lake, citizen: dict, file_name: str, *changes: pl.Expr) -> None:
    """A population-registry extract (xlsx, headers as the department writes them) holding `citizen`, a row of
    silver/citizens, with `changes` (polars expressions over the contract's column names) applied."""
    header = {c.name: c.header for c in load_catalog()["citizens"].columns}
    (
        pl.DataFrame([citizen])
        .select(list(header))
        .with_columns(*changes, pl.col("date_of_birth").dt.strftime("%d/%m/%Y"))
        .rename(header)
        .write_excel(lake.landing / "citizens" / file_name, worksheet="dan_cu", autofit=False)
    )

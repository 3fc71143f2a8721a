"""Every test gets its own lake in a temporary folder; the pipeline under test is the real one."""

import pytest
from dagster import DagsterInstance

from ingestion.lake import Lake
from ingestion.sample_data import generate


@pytest.fixture
def lake(tmp_path, monkeypatch) -> Lake:
    monkeypatch.setenv("TN_LAKE_DIR", str(tmp_path / "lake"))
    return Lake.from_env()


@pytest.fixture
def sample_lake(lake) -> Lake:
    """A lake whose landing zone holds the tiny deterministic sample."""
    generate(lake.landing, scale="tiny", seed=7)
    return lake


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral

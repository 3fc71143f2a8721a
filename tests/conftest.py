"""Every test gets its own lake in a temporary folder; the pipeline under test is the real one."""

import pytest
from dagster import DagsterInstance

from ingestion.lake import Lake
from ingestion.sample_data import generate


@pytest.fixture(scope="session", autouse=True)
def pseudonym_key():
    """Shared outputs refuse to build without TN_PSEUDONYM_KEY: tests use a fixed test-only key (a test that needs
    another key, or none, sets or deletes it itself)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TN_PSEUDONYM_KEY", "test-only-pseudonym-key-not-for-production-0001")
        yield "test-only-pseudonym-key-not-for-production-0001"


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

"""Every test gets its own lake in a temporary folder; the pipeline under test is the real one."""

import os
import tempfile

import pytest
from dagster import DagsterInstance

from ingestion.lake import Lake
from ingestion.sample_data import generate
from orchestration.dbt_project import prepare_manifest

prepare_manifest()  # the dbt assets are built from the manifest when test modules import the definitions
# The definitions read TN_LAKE_DIR through EnvVar when a run starts, so each test's own lake (set below) is the one
# used; a test that touches no lake fixture still never writes the project's lake/.
os.environ.setdefault("TN_LAKE_DIR", tempfile.mkdtemp(prefix="tn-test-lake-"))


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

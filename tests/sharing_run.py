"""One real refresh on the tiny sample shared by the sharing and PII-scan tests (session scope: it runs once)."""

import tempfile
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance

from ingestion.catalog import load_catalog
from ingestion.lake import Lake
from ingestion.sample_data import generate
from orchestration.run_pipeline import run_refresh
from orchestration.sharing.pii_scan import Needles


@pytest.fixture(scope="session")
def shared_refresh(pseudonym_key):
    """(lake, result, key bytes) after a full `warehouse_refresh` with the test key."""
    with pytest.MonkeyPatch.context() as patch, DagsterInstance.ephemeral() as instance, \
            tempfile.TemporaryDirectory() as tmp:
        patch.setenv("TN_LAKE_DIR", str(Path(tmp) / "lake"))
        lake = Lake.from_env()
        generate(lake.landing, scale="tiny", seed=7)
        result = run_refresh(instance)
        yield lake, result, pseudonym_key.encode()


def population_needles(lake: Lake) -> Needles:
    """Names, CCCDs and phones straight from the generated extracts (citizens registry), plus every personal
    identifier column (`pii: true`) of the other sources as loaded to silver: what must never be in shared files."""
    citizens = pl.concat([pl.read_excel(p) for p in sorted((lake.landing / "citizens").glob("*.xlsx"))])
    cccds, phones = set(citizens["Số CCCD"].cast(pl.String).drop_nulls()), set(
        citizens["Số điện thoại"].cast(pl.String).drop_nulls())
    for source in load_catalog().values():
        path = lake.silver(source.name)
        for column in (c for c in source.columns if c.pii and c.name not in ("full_name",)):
            if not path.exists():
                continue
            values = set(pl.scan_delta(str(path)).select(column.name).collect()[column.name].drop_nulls())
            (phones if "phone" in column.name else cccds).update(values)
    return Needles.of(names=citizens["Họ và tên"].drop_nulls().to_list(), cccds=cccds, phones=phones)

"""One real refresh on the tiny sample shared by the sharing and PII-scan tests (session scope: it runs once)."""

import polars as pl
import pytest

from ingestion.catalog import load_catalog
from ingestion.lake import Lake
from sharing.pii_scan import Needles
from tests.pipeline_run import refreshed_lake


@pytest.fixture(scope="session")
def shared_refresh(pseudonym_key, tmp_path_factory):
    """(lake, result, key bytes) after a full `warehouse_refresh` with the test key."""
    with refreshed_lake(tmp_path_factory.mktemp("sharing")) as (lake, _, result):
        yield lake, result, pseudonym_key.encode()


def population_needles(lake: Lake) -> Needles:
    """Names, CCCDs and phones straight from the generated extracts (citizens registry), plus every personal
    identifier column (`pii: true`) of the other sources as loaded to silver: what must never be in shared files."""
    citizens = pl.concat([pl.read_excel(p) for p in sorted((lake.landing / "citizens").glob("*.xlsx"))])
    cccds, phones = (
        set(citizens["Số CCCD"].cast(pl.String).drop_nulls()),
        set(citizens["Số điện thoại"].cast(pl.String).drop_nulls()),
    )
    for source in load_catalog().values():
        path = lake.silver(source.name)
        for column in (c for c in source.columns if c.pii and c.name not in ("full_name",)):
            if not path.exists():
                continue
            values = set(pl.scan_delta(str(path)).select(column.name).collect()[column.name].drop_nulls())
            (phones if "phone" in column.name else cccds).update(values)
    return Needles.of(names=citizens["Họ và tên"].drop_nulls().to_list(), cccds=cccds, phones=phones)

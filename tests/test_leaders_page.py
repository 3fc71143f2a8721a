"""The leaders' data-quality page after one real refresh of the tiny sample: it opens offline in headless Chromium
and shows the same scores as `quality.scorecard_department_daily`, ranked; every source's freshness; and the
refresh wrote a receipt for every delivered file."""

import os
import shutil

import duckdb
import polars as pl
import pytest

from departments.paths import DepartmentPaths
from ingestion.ingestion_log import read_log
from orchestration.ingestion_assets import CATALOG
from quality.scorecard import CRITERIA
from tests.pipeline_run import refreshed_lake
from tests.test_ui_browser import CHROMEDRIVER, CHROMIUM, browser  # noqa: F401  (headless Chromium fixture)

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
    reason=f"Chromium/ChromeDriver not installed ({CHROMIUM}, {CHROMEDRIVER}): apt-get install chromium-driver",
)
SCREENSHOT = os.environ.get("TN_LEADERS_SCREENSHOT")  # a path to keep the screenshot at (it is in tmp_path)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    with refreshed_lake(tmp_path_factory.mktemp("leaders")) as (lake, instance, result):
        yield lake, result


def _score(text: str) -> float | None:
    return None if text == "–" else float(text.replace(",", "."))


def test_page_shows_the_scorecard_ranked_offline(refreshed, browser, tmp_path):  # noqa: F811
    lake, result = refreshed
    assert result.success
    page = DepartmentPaths.of(lake).leaders_page
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source and "http://" not in source and "https://" not in source and "url(" not in source

    with duckdb.connect(str(lake.warehouse), read_only=True) as con:
        expected = con.sql(
            "select * from quality.scorecard_department_daily "
            "where day = (select max(day) from quality.scorecard_department_daily) order by overall desc, department"
        ).pl()

    browser.get(page.as_uri())
    assert browser.title.startswith("Chất lượng dữ liệu các sở, ngành")
    rows = browser.find_elements("css selector", "#departments tbody tr")
    assert [r.get_attribute("data-department") for r in rows] == expected["department"].to_list()  # ranked
    for row, want in zip(rows, expected.iter_rows(named=True)):
        cells = {
            c.get_attribute("data-criterion"): c.text for c in row.find_elements("css selector", "td[data-criterion]")
        }
        assert {k: _score(v) for k, v in cells.items()} == {c: want[c] for c in (*CRITERIA, "overall")}
    shown_sources = {
        r.get_attribute("data-freshness")
        for r in browser.find_elements("css selector", "#freshness tr[data-freshness]")
    }
    assert shown_sources == set(CATALOG)
    body = browser.find_element("tag name", "body").text
    for heading in ("Xếp hạng các đơn vị", "Xu hướng điểm tổng hợp 90 ngày", "Các quy tắc bị vi phạm nhiều nhất",
                    "Tình trạng cập nhật của các nguồn", "Cách tính điểm"):  # fmt: skip
        assert heading in body
    assert len(browser.find_elements("css selector", "svg.spark")) == len(expected) + len(CATALOG)

    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, height)
    shot = tmp_path / "leaders.png"
    browser.save_screenshot(str(shot))
    if SCREENSHOT:
        shutil.copy(shot, SCREENSHOT)
    print(f"\nleaders page {page} ({len(source):,} bytes), screenshot {shot}")


def test_refresh_wrote_a_receipt_for_every_delivered_file(refreshed):
    lake, _ = refreshed
    delivered = read_log(lake.ingestion_log, stage="bronze").select("source", "file").unique()
    receipted = pl.read_delta(str(DepartmentPaths.of(lake).receipts_log)).select("source", "file")
    assert receipted.sort("source", "file").equals(delivered.sort("source", "file"))
    for row in delivered.iter_rows(named=True):
        folder = DepartmentPaths.of(lake).source_outbox(CATALOG[row["source"]].department, row["source"])
        assert (folder / f"{row['file']}.receipt.xlsx").exists() and (folder / f"{row['file']}.rejected.csv").exists()

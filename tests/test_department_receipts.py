"""A department's file with known bad rows gets, in its outbox, a receipt and a rejection report (xlsx and CSV) that
list exactly those lines with their Vietnamese reasons and masked values; an unreadable file gets a receipt that
says why; a re-run writes nothing new. The real bronze → silver → receipts assets run on the files."""

import csv
import shutil
from pathlib import Path

import polars as pl
from dagster import AssetKey, materialize

from departments.paths import DepartmentPaths
from orchestration.department_assets import receipts_assets
from orchestration.ingestion_assets import CATALOG, ingestion_assets
from orchestration.resources import LakeResource

LAKE = {"lake_resource": LakeResource.from_env()}
FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ",".join(c.header for c in CATALOG["dossiers"].columns)  # as the department writes them
# line 1 is the header; the department's own line numbers follow
LINES = [
    "HS-0001,TT-01,SNV,05794,02/11/2026,09/11/2026,,Đang xử lý,019042262294",  # 2: good
    "HS-0002,TT-01,SNV,05794,31/02/2026,09/11/2026,,Đang xử lý,019042262295",  # 3: no such day
    "HS-0003,TT-01,SNV,05794,02/11/2026,09/11/2026,,Đang xử lý,01904226229",  # 4: CCCD of 11 digits
    "HS-0004,TT-01,SNV,05794,02/11/2026,09/11/2026,,Hoàn thành,019042262297",  # 5: status not in the list
    "HS-0005,TT-01,SNV,,02/11/2026,09/11/2026,,Đang xử lý,019042262298",  # 6: commune missing
    "HS-0006,TT-01,SNV,05794,02/11/2026,09/11/2026,05/11/2026,Đã trả kết quả,019042262299",  # 7: good
    "HS-0007,TT-01,SNV,05794,2026-13-45,09/11/2026,,Đang xử lý,0190 4226 2300",  # 8: two broken rules
    "HS-0008,TT-01,SNV,05794,02/11/2026,09/11/2026,,Đang xử lý,12345",  # 9: personal, if not CCCD-shaped
]
EXPECTED = [
    ("3", "Ngày tiếp nhận", "31/02/2026", "Ngày không hợp lệ", "Sửa lại theo định dạng dd/mm/yyyy (ví dụ 05/03/2025)"),
    ("4", "Số CCCD người nộp", "********229", "Số CCCD phải gồm 12 chữ số"),
    ("5", "Trạng thái", "Hoàn thành", "Giá trị không nằm trong danh mục cho phép"),
    ("6", "Mã xã", "", "Thiếu giá trị bắt buộc ở cột «Mã xã»", "Điền giá trị cho cột «Mã xã»"),
    ("8", "Ngày tiếp nhận", "2026-13-45", "Ngày không hợp lệ"),
    ("8", "Số CCCD người nộp", "***********300", "Số CCCD phải gồm 12 chữ số"),
    ("9", "Số CCCD người nộp", "**345", "Số CCCD phải gồm 12 chữ số"),
]
RAW_PERSONAL = ["01904226229", "0190 4226 2300", "4226"]


def _assets(*names: str):
    keys = {AssetKey([layer, n]) for n in names for layer in ("bronze", "silver")}
    receipts = {AssetKey(["departments", "receipts", n]) for n in names}
    return [a for a in ingestion_assets if a.key in keys] + [a for a in receipts_assets if a.key in receipts]


def _land(lake):
    dossiers = lake.landing / "dossiers"
    dossiers.mkdir(parents=True)
    (dossiers / "dossiers_2026-11-02.csv").write_text("\n".join([HEADER, *LINES]) + "\n", encoding="utf-8")
    (lake.landing / "feedback").mkdir()
    for name in ("feedback.json", "feedback_truncated.json"):  # silver needs one readable file
        shutil.copy(FIXTURES / name, lake.landing / "feedback" / name)


def _matches(row, expected) -> bool:
    return all(got == want for got, want in zip(row, expected))


def test_rejection_report_lists_the_bad_lines_in_vietnamese_with_masked_values(lake, instance):
    _land(lake)
    result = materialize(_assets("dossiers", "feedback"), instance=instance, resources=LAKE)
    assert result.success
    written = {
        e.asset_key.path[-1]: e.materialization.metadata["receipts_written"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] == "departments"
    }
    assert written == {"dossiers": 1, "feedback": 2}

    outbox = DepartmentPaths.of(lake).outbox / "trung-tam-phuc-vu-hanh-chinh-cong-tinh" / "dossiers"
    rejected_csv = outbox / "dossiers_2026-11-02.csv.rejected.csv"
    assert rejected_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    with rejected_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Dòng", "Cột", "Giá trị", "Lý do", "Cách sửa"]
    assert len(rows[1:]) == len(EXPECTED)
    for row, expected in zip(rows[1:], EXPECTED):
        assert _matches(row, expected), (row, expected)
    assert all(row[4] for row in rows[1:])  # every rejection says what to fix

    sheet = pl.read_excel(outbox / "dossiers_2026-11-02.csv.receipt.xlsx", sheet_name="Dòng bị từ chối")
    assert sheet.columns == rows[0]
    xlsx_rows = [tuple("" if v is None else str(v) for v in r) for r in sheet.iter_rows()]
    assert xlsx_rows == [tuple(r) for r in rows[1:]]

    summary = pl.read_excel(outbox / "dossiers_2026-11-02.csv.receipt.xlsx", sheet_name="Biên nhận")
    assert summary.columns == ["Mục", "Nội dung"]
    counts = dict(summary.iter_rows())
    assert counts["Đơn vị"] == "Trung tâm Phục vụ hành chính công tỉnh"
    assert counts["Số dòng nhận được"] == "8" and counts["Số dòng được chấp nhận"] == "2"
    assert counts["Số dòng bị từ chối"] == "6" and counts["Trạng thái"] == "Đã tiếp nhận"
    with (outbox / "dossiers_2026-11-02.csv.receipt.csv").open(encoding="utf-8-sig", newline="") as f:
        assert dict(list(csv.reader(f))[1:]) == counts

    for path in DepartmentPaths.of(lake).outbox.rglob("*.csv"):
        text = path.read_text(encoding="utf-8-sig")
        assert not any(raw in text for raw in RAW_PERSONAL), path

    unreadable = DepartmentPaths.of(lake).outbox / "trung-tam-giam-sat-dieu-hanh-thong-minh-ioc" / "feedback"
    with (unreadable / "feedback_truncated.json.receipt.csv").open(encoding="utf-8-sig", newline="") as f:
        receipt = dict(list(csv.reader(f))[1:])
    assert receipt["Trạng thái"] == "Không tiếp nhận được tệp"
    assert receipt["Lý do"].startswith("Không đọc được tệp dưới dạng JSON")
    assert "gửi lại" in receipt["Cách sửa"] and receipt["Số dòng được chấp nhận"] == "0"

    print("\n".join(",".join(r) for r in rows[:4]))
    stamps = {p: p.stat().st_mtime_ns for p in DepartmentPaths.of(lake).outbox.rglob("*.*")}
    again = materialize(_assets("dossiers", "feedback"), instance=instance, resources=LAKE)
    assert all(
        e.materialization.metadata["receipts_written"].value == 0
        for e in again.get_asset_materialization_events()
        if e.asset_key.path[0] == "departments"
    )
    assert {p: p.stat().st_mtime_ns for p in DepartmentPaths.of(lake).outbox.rglob("*.*")} == stamps

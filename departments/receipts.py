"""A receipt and a rejection report for every delivered file, in the department's outbox:

    outbox/<department-slug>/<source>/<file>.receipt.xlsx   sheets "Biên nhận" (counts) and "Dòng bị từ chối"
    outbox/<department-slug>/<source>/<file>.receipt.csv    the counts          (UTF-8 with BOM: Excel opens it)
    outbox/<department-slug>/<source>/<file>.rejected.csv   the rejected rows   (UTF-8 with BOM)

A file is receipted once its silver stage is logged (or it was quarantined whole), and only once: the receipts log
(Delta, by content hash) is what makes a re-run write nothing new. Every rejected row is listed with its line in
the department's own file, the header the department writes, the value (masked when personal or identifier-shaped),
the reason in Vietnamese and what to fix.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import xlsxwriter
from deltalake import DeltaTable, write_deltalake

from departments.local_time import shown
from departments.masking import mask_value
from departments.messages_vi import Finding, file_finding, row_findings
from departments.paths import RECEIPT_CSV, RECEIPT_XLSX, REJECTED_CSV, DepartmentPaths
from ingestion.catalog import Source
from ingestion.ingestion_log import read_log
from ingestion.lake import Lake

SUMMARY_HEADER = ("Mục", "Nội dung")
REJECTED_HEADER = ("Dòng", "Cột", "Giá trị", "Lý do", "Cách sửa")
EXCEL_MAX_ROWS = 1_048_575  # below the header; the CSV always holds every row
LOG_SCHEMA = {
    "source": pl.String,
    "department": pl.String,
    "file": pl.String,
    "file_hash": pl.String,
    "landed_rows": pl.Int64,
    "accepted_rows": pl.Int64,
    "rejected_rows": pl.Int64,
    "superseded_rows": pl.Int64,
    "receipt": pl.String,
    "written_at": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class Receipt:
    source: Source
    file: str
    file_hash: str
    received_at: datetime
    landed: int
    accepted: int
    rejected: int
    superseded: int
    file_problem: Finding | None = None  # the whole file could not be read
    rejections: list[tuple[int | None, str, str, str, str]] = field(default_factory=list)  # as REJECTED_HEADER

    def summary(self) -> list[tuple[str, str]]:
        status = "Không tiếp nhận được tệp" if self.file_problem else "Đã tiếp nhận"
        rows = [
            ("Đơn vị", self.source.department),
            ("Nguồn dữ liệu", f"{self.source.title} ({self.source.name})"),
            ("Tệp", self.file),
            ("Mã SHA-256 của tệp", self.file_hash),
            ("Thời điểm tiếp nhận", shown(self.received_at)),
            ("Trạng thái", status),
            ("Số dòng nhận được", str(self.landed)),
            ("Số dòng được chấp nhận", str(self.accepted)),
            ("Số dòng bị từ chối", str(self.rejected)),
            ("Số dòng bị thay thế (trùng khóa, dòng mới hơn được giữ)", str(self.superseded)),
        ]
        if self.file_problem:
            rows += [("Lý do", self.file_problem.reason), ("Cách sửa", self.file_problem.fix)]
        return rows


def receipted_hashes(lake: Lake, source: str) -> set[str]:
    path = DepartmentPaths.of(lake).receipts_log
    if not DeltaTable.is_deltatable(str(path)):
        return set()
    return set(pl.scan_delta(str(path)).filter(pl.col("source") == source).select("file_hash").collect()["file_hash"])


def pending_receipts(lake: Lake, source: Source) -> list[Receipt]:
    """Receipts for the source's files that are settled (silver applied, or unreadable) and not yet receipted."""
    done = receipted_hashes(lake, source.name)
    log = read_log(lake.ingestion_log, source.name).filter(~pl.col("file_hash").is_in(list(done)))
    latest = log.sort("ingested_at").unique(["stage", "file_hash"], keep="last")
    bronze = latest.filter(pl.col("stage") == "bronze")
    silver = {r["file_hash"]: r for r in latest.filter(pl.col("stage") == "silver").iter_rows(named=True)}
    settled = [
        r
        for r in bronze.sort("ingested_at", "file").iter_rows(named=True)
        if r["status"] == "failed" or r["file_hash"] in silver
    ]
    if not settled:
        return []
    rejected = _quarantined(lake, source, [r["file_hash"] for r in settled])
    receipts = []
    for entry in settled:
        digest = entry["file_hash"]
        if entry["status"] == "failed":
            landed = entry["landed_rows"] or 0
            problem = file_finding(source, entry["error"] or "")
            receipts.append(Receipt(source, entry["file"], digest, entry["ingested_at"], landed, 0, landed, 0, problem))
            continue
        applied = silver[digest]
        lines = _rejection_lines(source, rejected.filter(pl.col("file_hash") == digest))
        receipts.append(
            Receipt(
                source,
                entry["file"],
                digest,
                entry["ingested_at"],
                landed=entry["landed_rows"] or 0,
                accepted=applied["silver_rows"] or 0,
                rejected=applied["quarantined_rows"] or 0,
                superseded=applied["superseded_rows"] or 0,
                rejections=lines,
            )
        )
    return receipts


def _quarantined(lake: Lake, source: Source, hashes: list[str]) -> pl.DataFrame:
    path = lake.quarantine
    if not DeltaTable.is_deltatable(str(path), storage_options=lake.storage_options_for(path) or None):
        return pl.DataFrame(schema={"file_hash": pl.String, "row_number": pl.Int64, "reason": pl.String})
    return (
        pl.scan_delta(str(path), storage_options=lake.storage_options_for(path) or None)
        .filter((pl.col("source") == source.name) & (pl.col("stage") == "contract") & pl.col("file_hash").is_in(hashes))
        .select("file_hash", "row_number", "reason", "record")
        .sort("row_number")
        .collect()
    )


def _rejection_lines(source: Source, rows: pl.DataFrame) -> list[tuple[int | None, str, str, str, str]]:
    lines = []
    for row in rows.iter_rows(named=True):
        record = json.loads(row["record"]) if row["record"] else {}
        for finding in row_findings(source, row["reason"] or ""):
            column = finding.column
            value = mask_value(record.get(column.name), column.pii) if column else ""
            lines.append((row["row_number"], column.header if column else "", value, finding.reason, finding.fix))
    return lines


def write_receipt(lake: Lake, receipt: Receipt) -> Path:
    """The receipt's three files in the department's outbox; returns the .xlsx."""
    folder = DepartmentPaths.of(lake).source_outbox(receipt.source.department, receipt.source.name)
    folder.mkdir(parents=True, exist_ok=True)
    line_label = "Dòng" if receipt.source.format in ("csv", "xlsx") else "Bản ghi thứ"
    header = (line_label, *REJECTED_HEADER[1:])
    _write_csv(folder / f"{receipt.file}{RECEIPT_CSV}", SUMMARY_HEADER, receipt.summary())
    _write_csv(folder / f"{receipt.file}{REJECTED_CSV}", header, receipt.rejections)
    xlsx = folder / f"{receipt.file}{RECEIPT_XLSX}"
    # in memory: by default xlsxwriter writes a temporary file per XML part, most of a small receipt's cost
    with xlsxwriter.Workbook(str(xlsx), {"in_memory": True}) as book:
        bold = book.add_format({"bold": True})
        sheet = book.add_worksheet("Biên nhận")
        sheet.set_column(0, 0, 48)
        sheet.set_column(1, 1, 80)
        for i, (label, value) in enumerate([SUMMARY_HEADER, *receipt.summary()]):
            sheet.write_string(i, 0, label, bold)
            sheet.write_string(i, 1, value, bold if i == 0 else None)
        rows = book.add_worksheet("Dòng bị từ chối")
        for j, (title, width) in enumerate(zip(header, (10, 28, 20, 60, 70))):
            rows.write_string(0, j, title, bold)
            rows.set_column(j, j, width)
        for i, line in enumerate(receipt.rejections[:EXCEL_MAX_ROWS], start=1):
            if line[0] is not None:
                rows.write_number(i, 0, line[0])
            for j, text in enumerate(line[1:], start=1):
                rows.write_string(i, j, text)
        rows.freeze_panes(1, 0)
    return xlsx


def _write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def record_receipts(lake: Lake, written: list[tuple[Receipt, Path]]) -> None:
    if not written:
        return
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        [
            {
                "source": r.source.name,
                "department": r.source.department,
                "file": r.file,
                "file_hash": r.file_hash,
                "landed_rows": r.landed,
                "accepted_rows": r.accepted,
                "rejected_rows": r.rejected,
                "superseded_rows": r.superseded,
                "receipt": str(path.relative_to(lake.root)),
                "written_at": now,
            }
            for r, path in written
        ],
        schema=LOG_SCHEMA,
    )
    write_deltalake(str(DepartmentPaths.of(lake).receipts_log), frame.to_arrow(), mode="append")


def send_receipts(lake: Lake, source: Source) -> list[Receipt]:
    """Write the source's pending receipts and log them; returns what was written (nothing on a re-run)."""
    receipts = pending_receipts(lake, source)
    record_receipts(lake, [(r, write_receipt(lake, r)) for r in receipts])
    return receipts

"""Figures computed straight from the landing CSVs with the standard library, independent of the pipeline."""

import csv
import re
import unicodedata
from collections import defaultdict
from datetime import datetime
from pathlib import Path

CCCD = re.compile(r"^\d{12}$")


def _date(text: str):
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def valid_dossier_rows(landing: Path) -> list[dict]:
    rows = []
    for path in sorted((landing / "dossiers").glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if CCCD.match(row["Số CCCD người nộp"]) and row["Ngày tiếp nhận"] and row["Ngày hẹn trả"]:
                    rows.append(row)
    return rows


def on_time_by_agency_month(landing: Path) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(agency, 'YYYY-MM') → (received, resolved, resolved on time)."""
    figures = defaultdict(lambda: [0, 0, 0])
    for row in valid_dossier_rows(landing):
        received = _date(row["Ngày tiếp nhận"])
        figures[(row["Mã cơ quan"], received.strftime("%Y-%m"))][0] += 1
        if unicodedata.normalize("NFC", row["Trạng thái"]) == "Đã trả kết quả":  # some exports are NFD
            returned, due = _date(row["Ngày trả kết quả"]), _date(row["Ngày hẹn trả"])
            cell = figures[(row["Mã cơ quan"], returned.strftime("%Y-%m"))]
            cell[1] += 1
            cell[2] += returned <= due
    return {key: tuple(value) for key, value in figures.items()}

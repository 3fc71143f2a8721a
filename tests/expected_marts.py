"""Figures for the dbt marts computed straight from the landing CSVs and the seed CSVs, with the standard library,
independently of dbt: the code resolution rule is re-implemented here from the seeds, not read from the warehouse."""

import csv
import unicodedata
from collections import defaultdict
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from tests.expected import valid_dossier_rows

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"


def _rows(name: str) -> list[dict]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache
def current_codes() -> frozenset[str]:
    return frozenset(r["commune_code"] for r in _rows("ref_admin_units_2025"))


@lru_cache
def old_code_targets() -> dict[str, frozenset[str]]:
    targets = defaultdict(set)
    for row in _rows("ref_commune_mapping_2025"):
        targets[row["old_commune_code"]].add(row["new_commune_code"])
    return {code: frozenset(new) for code, new in targets.items()}


def current_commune(code: str) -> str | None:
    """A current code is itself; a retired code moves to its single target; a split or unknown code is unplaced."""
    if code in current_codes():
        return code
    targets = old_code_targets().get(code, frozenset())
    if len(targets) == 1 and next(iter(targets)) in current_codes():
        return next(iter(targets))
    return None


def is_split(code: str) -> bool:
    """A retired code whose commune was divided over several current communes (and is not a current code)."""
    return code not in current_codes() and len(old_code_targets().get(code, ())) > 1


def split_dossier_count(landing: Path) -> int:
    return sum(is_split(row["Mã xã"]) for row in valid_dossier_rows(landing))


def _date(text: str):
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def dossier_figures_by_commune(landing: Path, agency: str, month: str) -> dict[str | None, tuple[int, int, int]]:
    """current commune (None = unplaced) → (received, resolved, resolved on time) for one agency and 'YYYY-MM'."""
    figures = defaultdict(lambda: [0, 0, 0])
    for row in valid_dossier_rows(landing):
        if row["Mã cơ quan"] != agency:
            continue
        commune = current_commune(row["Mã xã"])
        if _date(row["Ngày tiếp nhận"]).strftime("%Y-%m") == month:
            figures[commune][0] += 1
        if unicodedata.normalize("NFC", row["Trạng thái"]) == "Đã trả kết quả":
            returned, due = _date(row["Ngày trả kết quả"]), _date(row["Ngày hẹn trả"])
            if returned.strftime("%Y-%m") == month:
                figures[commune][1] += 1
                figures[commune][2] += returned <= due
    return {commune: tuple(values) for commune, values in figures.items()}


def latest_dossier_commune(landing: Path) -> dict[str, str | None]:
    """applicant CCCD → current commune of their latest dossier (latest received date, then dossier id)."""
    latest = {}
    for row in valid_dossier_rows(landing):
        key = (_date(row["Ngày tiếp nhận"]), row["Mã hồ sơ"])
        cccd = row["Số CCCD người nộp"]
        if cccd not in latest or key > latest[cccd][0]:
            latest[cccd] = (key, current_commune(row["Mã xã"]))
    return {cccd: commune for cccd, (_, commune) in latest.items()}

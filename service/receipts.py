"""A department's receipts and rejection reports (issue 20) through the service: the files of its outbox folder,
`lake/outbox/<department-slug>/<source>/`, for a consumer whose `agency` is that department (as its contracts name
it, e.g. "Sở Y tế")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from departments.paths import DepartmentPaths, department_slug
from ingestion.lake import Lake

MEDIA = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
}
SUFFIXES = (".receipt.xlsx", ".receipt.csv", ".rejected.csv")


def outbox_of(lake: Lake, agency: str) -> Path:
    return DepartmentPaths.of(lake).outbox / department_slug(agency)


def listed(outbox: Path) -> list[dict]:
    """The receipts in `outbox`, newest first: source, file name, size and when it was written."""
    files = [p for p in outbox.glob("*/*") if p.is_file() and p.name.endswith(SUFFIXES)] if outbox.is_dir() else []
    return [
        {
            "source": p.parent.name,
            "file": p.name,
            "bytes": p.stat().st_size,
            "written_at": datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat(timespec="seconds"),
        }
        for p in sorted(files, key=lambda p: (-p.stat().st_mtime, p.parent.name, p.name))
    ]


def find(outbox: Path, source: str, name: str) -> Path | None:
    """The file only when `listed` names it: no name a client sends reaches anything else."""
    if any(entry["source"] == source and entry["file"] == name for entry in listed(outbox)):
        return outbox / source / name
    return None

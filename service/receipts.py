"""A department's receipts and rejection reports (issue 20) through the service: the files of its outbox folder,
`lake/outbox/<department-slug>/<source>/`, for a consumer whose `agency` is that department (as its contracts name
it, e.g. "Sở Y tế")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from departments.paths import RECEIPT_CSV, RECEIPT_XLSX, REJECTED_CSV

MEDIA = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
}


def listed(outbox: Path) -> list[dict]:
    """The receipts in `outbox`, newest first: source, file name, size and when it was written."""
    suffixes = (RECEIPT_XLSX, RECEIPT_CSV, REJECTED_CSV)
    found = [(p, p.stat()) for p in outbox.glob("*/*") if p.name.endswith(suffixes) and p.is_file()]
    return [
        {
            "source": p.parent.name,
            "file": p.name,
            "bytes": stat.st_size,
            "written_at": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds"),
        }
        for p, stat in sorted(found, key=lambda item: (-item[1].st_mtime, item[0].parent.name, item[0].name))
    ]


def find(outbox: Path, source: str, name: str) -> Path | None:
    """The file only when `listed` names it: no name a client sends reaches anything else."""
    if any(entry["source"] == source and entry["file"] == name for entry in listed(outbox)):
        return outbox / source / name
    return None

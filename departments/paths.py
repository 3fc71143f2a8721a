"""Where the loop back to departments keeps its files under the lake root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingestion.extracts import loose_key
from ingestion.lake import Lake

# The three files of a delivered file's receipt, `<file><suffix>` in its source's outbox folder.
RECEIPT_XLSX, RECEIPT_CSV, REJECTED_CSV = ".receipt.xlsx", ".receipt.csv", ".rejected.csv"


def department_slug(department: str) -> str:
    """'Sở Y tế' → 'so-y-te': a folder name any file share and any department's PC accepts."""
    return loose_key(department).replace(" ", "-") or "don-vi"


@dataclass(frozen=True)
class DepartmentPaths:
    root: Path

    @classmethod
    def of(cls, lake: Lake) -> DepartmentPaths:
        return cls(lake.root)

    @property
    def outbox(self) -> Path:
        """outbox/<department-slug>/<source>/: what each department picks up (receipts, rejection reports)."""
        return self.root / "outbox"

    def department_outbox(self, department: str) -> Path:
        return self.outbox / department_slug(department)

    def source_outbox(self, department: str, source: str) -> Path:
        return self.department_outbox(department) / source

    @property
    def receipts_log(self) -> Path:
        """Delta, one row per receipted file (by content hash): what makes re-runs write nothing new."""
        return self.root / "departments" / "receipts_log"

    @property
    def open_problems(self) -> Path:
        """The alerts that are open (sent and not yet resolved), so each problem is announced once."""
        return self.root / "alerts" / "open_problems.json"

    @property
    def leaders_page(self) -> Path:
        return self.root / "quality" / "leaders" / "index.html"

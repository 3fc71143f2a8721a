"""Where the lake lives. One environment variable moves it; nothing else in the code names a path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Lake:
    root: Path

    @classmethod
    def from_env(cls) -> "Lake":
        """`TN_LAKE_DIR` overrides the embedded default `lake/` beside the project."""
        return cls(Path(os.environ.get("TN_LAKE_DIR", PROJECT_ROOT / "lake")).resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def bronze(self, source: str) -> Path:
        return self.root / "bronze" / source

    def silver(self, source: str) -> Path:
        return self.root / "silver" / source

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def ingestion_log(self) -> Path:
        """One row per landed file per stage (bronze, silver): hash, row counts, status, error."""
        return self.root / "ingestion_log"

    @property
    def published(self) -> Path:
        """Files shared outside the warehouse (Parquet exports of marts)."""
        return self.root / "published"

    @property
    def warehouse(self) -> Path:
        """The DuckDB file holding dbt's models: what analysts open."""
        return self.root / "warehouse.duckdb"

    @property
    def shared_marts(self) -> Path:
        """The shared marts file for analysts and the IOC: pseudonymised, no raw personal data (issue 7)."""
        return self.root / "shared_marts.duckdb"

    @property
    def open_data(self) -> Path:
        """Open-data portal export: CSV + Parquet per dataset and a DCAT catalog.json (issue 7)."""
        return self.root / "open_data"

"""Where the lake lives. Environment variables move it; nothing else in the code names a path.

Embedded default: everything under `lake/` (or `TN_LAKE_DIR`). Production: set `TN_LAKE_URI` (e.g.
`s3://tn-lake/warehouse`) and the Delta tables (bronze, silver, quarantine) live on S3-compatible object storage,
reached with the `storage_options` below, built only from environment variables (credentials never in the repo).
The landing zone, the DuckDB file and published exports stay under `TN_LAKE_DIR` on the machine that runs them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = PROJECT_ROOT / "lake"

# Environment variable → deltalake/object_store option. Unset variables are left out.
STORAGE_ENV = {
    "AWS_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN": "AWS_SESSION_TOKEN",
    "AWS_REGION": "AWS_REGION",
    "AWS_ENDPOINT_URL": "AWS_ENDPOINT_URL",
    "AWS_ALLOW_HTTP": "AWS_ALLOW_HTTP",
    "AWS_S3_ALLOW_UNSAFE_RENAME": "AWS_S3_ALLOW_UNSAFE_RENAME",
    "AWS_CONDITIONAL_PUT": "conditional_put",
}


def storage_options_from_env(environ=os.environ) -> dict[str, str]:
    options = {option: environ[var] for var, option in STORAGE_ENV.items() if environ.get(var)}
    endpoint = options.get("AWS_ENDPOINT_URL", "")
    if endpoint.startswith("http://"):
        options.setdefault("AWS_ALLOW_HTTP", "true")  # a local S3-compatible server (MinIO, moto) speaks plain HTTP
    return options


@dataclass(frozen=True)
class Lake:
    root: Path
    uri: str | None = None  # object-storage root for the Delta tables (TN_LAKE_URI); None: under `root`
    storage_options: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_settings(cls, root: str | Path, uri: str = "", credentials: dict[str, str] | None = None) -> Lake:
        """A lake at `root` (relative: to the working directory), its Delta tables under `uri` when given, opened
        with `credentials` (environment-variable names → values, as in STORAGE_ENV)."""
        uri = uri.rstrip("/") or None
        return cls(Path(root).resolve(), uri, storage_options_from_env(credentials or {}) if uri else {})

    @classmethod
    def from_env(cls) -> Lake:
        """For scripts and tests (Dagster uses `LakeResource`): `TN_LAKE_DIR` overrides the embedded default `lake/`;
        `TN_LAKE_URI` puts the Delta tables on S3."""
        return cls.from_settings(
            os.environ.get("TN_LAKE_DIR", DEFAULT_ROOT), os.environ.get("TN_LAKE_URI", ""), os.environ
        )

    @property
    def is_remote(self) -> bool:
        return self.uri is not None

    def _table(self, *parts: str) -> Path | str:
        """A Delta table's location: a local Path, or a URI string on object storage (`str()` works on both)."""
        return "/".join([self.uri, *parts]) if self.uri else self.root.joinpath(*parts)

    def storage_options_for(self, location: Path | str) -> dict[str, str]:
        """The options to open a table at `location`: the object store's for a URI, none for a local folder (the
        ingestion log and quality tables stay under `root` even when the other tables are on object storage)."""
        return self.storage_options if isinstance(location, str) else {}

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def bronze(self, source: str) -> Path | str:
        return self._table("bronze", source)

    def silver(self, source: str) -> Path | str:
        return self._table("silver", source)

    @property
    def quarantine(self) -> Path | str:
        return self._table("quarantine")

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
    def build_state(self) -> Path:
        """One row per built object: what each incremental build was built from (ingestion/build_state.py)."""
        return self.root / "build_state.duckdb"

    @property
    def shared_marts(self) -> Path:
        """The shared marts file for analysts and the IOC: pseudonymised, no raw personal data (issue 7)."""
        return self.root / "shared_marts.duckdb"

    @property
    def open_data(self) -> Path:
        """Open-data portal export: CSV + Parquet per dataset and a DCAT catalog.json (issue 7)."""
        return self.root / "open_data"

"""Consumers and their grants, declared in one YAML file (`service/consumers.yaml`, or `TN_SERVICE_CONSUMERS`).

    consumers:
      so-tu-phap:                                  # consumer id: the connection account of one system
        agency: Sở Tư pháp                         # owning agency (shown in the ledger)
        rate_per_second: 5                         # optional, else TN_SERVICE_RATE
        datasets:                                  # dataset id or `schema.*` → the grant (null: every row and column)
          marts.mart_dossier_on_time_by_agency_month:
            rows: {agency_code: "000.00.20.H56"}   # only the rows where every listed column has this value (a list:
                                                   # any of them)
            columns: [agency_code, month, resolved_count, on_time_rate]   # only these columns
          conformed.*:

A `datasets:` list instead of a mapping grants every row and column of each entry.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from service.watched import WatchedFile

CONSUMER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class GrantsError(ValueError):
    pass


@dataclass(frozen=True)
class Grant:
    rows: dict[str, tuple] = field(default_factory=dict)  # column → allowed values
    columns: tuple[str, ...] | None = None  # None: every column


@dataclass(frozen=True)
class Consumer:
    id: str
    agency: str
    grants: dict[str, Grant]  # dataset id or fnmatch pattern → grant
    rate_per_second: float | None = None

    def grant_for(self, dataset: str) -> Grant | None:
        """The grant naming `dataset` exactly, else the first pattern matching it."""
        if dataset in self.grants:
            return self.grants[dataset]
        return next((g for p, g in self.grants.items() if fnmatch.fnmatchcase(dataset, p)), None)


def _grant(where: str, raw) -> Grant:
    if raw is None:
        return Grant()
    if not isinstance(raw, dict) or set(raw) - {"rows", "columns"}:
        raise GrantsError(f"{where}: a grant is null or {{rows: {{COLUMN: VALUE}}, columns: [COLUMN, …]}}")
    rows = {}
    for column, values in (raw.get("rows") or {}).items():
        values = tuple(values) if isinstance(values, list) else (values,)
        if not values or any(isinstance(v, dict | list) or v is None for v in values):
            raise GrantsError(f"{where}: rows.{column} must be a value or a list of values")
        rows[str(column)] = values
    columns = raw.get("columns")
    if columns is not None and not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
        raise GrantsError(f"{where}: columns must be a list of column names")
    return Grant(rows, tuple(columns) if columns is not None else None)


def load_consumers(path: Path) -> dict[str, Consumer]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    consumers = {}
    for consumer_id, entry in (raw.get("consumers") or {}).items():
        where = f"{path.name}: consumer {consumer_id}"
        if not CONSUMER_ID.match(str(consumer_id)):
            raise GrantsError(f"{where}: an id is lowercase ASCII letters, digits and '-'")
        if not isinstance(entry, dict) or not entry.get("agency"):
            raise GrantsError(f"{where}: needs agency and datasets")
        datasets = entry.get("datasets") or {}
        if isinstance(datasets, list):
            datasets = dict.fromkeys(datasets)
        grants = {str(d): _grant(f"{where}, dataset {d}", g) for d, g in datasets.items()}
        rate = entry.get("rate_per_second")
        consumers[consumer_id] = Consumer(consumer_id, str(entry["agency"]), grants, float(rate) if rate else None)
    return consumers


class Consumers:
    """The declared consumers, re-read when the file changes; no file: nobody but the public."""

    def __init__(self, path: Path):
        self._file = WatchedFile(path, load_consumers, dict)

    def get(self, consumer_id: str) -> Consumer | None:
        return self._file.get().get(consumer_id)

    def all(self) -> dict[str, Consumer]:
        return self._file.get()

"""`shared_marts.yaml` read into small typed objects, validated up front so a bad entry fails with its name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CONFIG_PATH = Path(__file__).with_name("shared_marts.yaml")
TREATMENTS = ("keep", "drop", "mask_phone", "pseudonymise", "year")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class SharingConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ColumnRule:
    treatment: str  # one of TREATMENTS
    domain: str | None = None  # pseudonymise: the identifier's kind ("cccd"), part of the hashed message
    rename: str | None = None  # the column's name in the shared file


@dataclass(frozen=True)
class Suppression:
    where: str
    counts: tuple[str, ...]
    derived: tuple[str, ...] = ()


@dataclass(frozen=True)
class Incremental:
    """Copy only the source rows changed since the last build (sharing/incremental_copy.py)."""

    unique_key: str  # source column naming a row; replaced rows are matched on it
    changed_since: str  # source column: when the row last changed (silver's ingest time, dbt's built_at)


@dataclass(frozen=True)
class OpenDataset:
    dataset: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    frequency: str
    licence: str
    licence_title: str
    spatial: str
    keywords: tuple[str, ...] = ()
    temporal_column: str | None = None
    column_titles: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SharedTable:
    name: str  # schema.table in the shared file
    sources: tuple[str, ...]  # candidate warehouse tables, first existing wins
    columns: dict[str, ColumnRule] = field(default_factory=dict)
    suppress: Suppression | None = None
    open_data: OpenDataset | None = None
    incremental: Incremental | None = None

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    @property
    def table(self) -> str:
        return self.name.split(".")[1]


@dataclass(frozen=True)
class SharingConfig:
    tables: tuple[SharedTable, ...]
    small_cell_threshold: int
    publisher: dict[str, str]

    @property
    def open_datasets(self) -> list[SharedTable]:
        return [t for t in self.tables if t.open_data]


def _rule(table: str, column: str, raw) -> ColumnRule:
    if raw in ("keep", "drop", "mask_phone"):
        return ColumnRule(raw)
    if isinstance(raw, dict) and "pseudonymise" in raw:
        return ColumnRule("pseudonymise", domain=str(raw["pseudonymise"]), rename=raw.get("as"))
    if isinstance(raw, dict) and set(raw) == {"year"}:
        return ColumnRule("year", rename=raw["year"])
    raise SharingConfigError(
        f"{CONFIG_PATH.name}: table {table}, column {column}: unknown treatment {raw!r} "
        f"(expected keep, drop, mask_phone, {{pseudonymise: DOMAIN, as: NAME}} or {{year: NAME}})"
    )


def _open_dataset(table: str, raw: dict, defaults: dict) -> OpenDataset:
    merged = {**defaults, **raw}
    missing = [k for k in ("dataset", "title_vi", "title_en", "description_vi", "description_en") if not merged.get(k)]
    if missing:
        raise SharingConfigError(f"{CONFIG_PATH.name}: table {table}: open_data lacks {', '.join(missing)}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", merged["dataset"]):
        raise SharingConfigError(
            f"{CONFIG_PATH.name}: table {table}: open_data.dataset {merged['dataset']!r} must "
            "be lowercase ASCII words joined by '-' (it is a folder and a URL)"
        )
    return OpenDataset(
        dataset=merged["dataset"],
        title_vi=merged["title_vi"],
        title_en=merged["title_en"],
        description_vi=" ".join(merged["description_vi"].split()),
        description_en=" ".join(merged["description_en"].split()),
        frequency=merged.get("frequency", "daily"),
        licence=merged["licence"],
        licence_title=merged["licence_title"],
        spatial=merged.get("spatial", ""),
        keywords=tuple(merged.get("keywords", ())),
        temporal_column=merged.get("temporal_column"),
        column_titles=dict(merged.get("column_titles") or {}),
    )


def _incremental(table: str, raw, columns: dict[str, ColumnRule], suppress: Suppression | None) -> Incremental:
    if not (isinstance(raw, dict) and set(raw) == {"unique_key", "changed_since"}):
        raise SharingConfigError(
            f"{CONFIG_PATH.name}: table {table}: incremental must be {{unique_key: COLUMN, changed_since: COLUMN}}"
        )
    if suppress:
        raise SharingConfigError(
            f"{CONFIG_PATH.name}: table {table}: suppressed aggregates are rebuilt whole, "
            "incremental is for record tables"
        )
    key_rule = columns.get(raw["unique_key"], ColumnRule("keep"))
    if key_rule.treatment not in ("keep", "pseudonymise"):
        raise SharingConfigError(
            f"{CONFIG_PATH.name}: table {table}: incremental.unique_key {raw['unique_key']} "
            f"must be kept or pseudonymised in the shared table, not {key_rule.treatment}"
        )
    return Incremental(raw["unique_key"], raw["changed_since"])


def load_config(path: Path = CONFIG_PATH) -> SharingConfig:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = raw.get("defaults", {})
    tables = []
    for name, entry in (raw.get("tables") or {}).items():
        if not _NAME.match(name):
            raise SharingConfigError(f"{path.name}: table name {name!r} must be schema.table in lowercase")
        entry = entry or {}
        sources = entry.get("from", name)
        sources = tuple([sources] if isinstance(sources, str) else sources)
        columns = {c: _rule(name, c, r) for c, r in (entry.get("columns") or {}).items()}
        suppress = None
        if entry.get("suppress"):
            s = entry["suppress"]
            suppress = Suppression(
                where=s.get("where", "true"), counts=tuple(s["counts"]), derived=tuple(s.get("derived", ()))
            )
        open_data = _open_dataset(name, entry["open_data"], defaults) if entry.get("open_data") else None
        if open_data and any(r.treatment in ("pseudonymise", "mask_phone") for r in columns.values()):
            raise SharingConfigError(
                f"{path.name}: table {name} holds pseudonymised or masked personal data and "
                "cannot be open data (publish an aggregate instead)"
            )
        incremental = _incremental(name, entry["incremental"], columns, suppress) if entry.get("incremental") else None
        tables.append(SharedTable(name, sources, columns, suppress, open_data, incremental))
    datasets = [t.open_data.dataset for t in tables if t.open_data]
    if len(datasets) != len(set(datasets)):
        raise SharingConfigError(f"{path.name}: open_data.dataset names must be unique: {datasets}")
    return SharingConfig(tuple(tables), int(raw.get("small_cell_threshold", 5)), dict(raw.get("publisher", {})))

"""The declarative source catalog: one YAML file per departmental source in `ingestion/sources/`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

SOURCES_DIR = Path(__file__).parent / "sources"
COLUMN_TYPES = {"string", "date", "integer", "float"}
FORMATS = {"csv", "xlsx"}


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    type: str = "string"
    required: bool = False
    pii: bool = False
    pattern: str | None = None
    allowed: tuple[str, ...] | None = None
    reference: str | None = None  # "commune": values must be known administrative-unit codes


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    department: str
    format: str
    pattern: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    encoding: str = "utf-8"
    freshness_hours: int = 24
    path: Path = field(default=Path(), compare=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def header_map(self) -> dict[str, str]:
        """Header as written by the department → contract column name."""
        return {c.header: c.name for c in self.columns}


def _parse_source(path: Path) -> Source:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = f"{path.name}"
    columns = []
    for spec in raw["columns"]:
        col = Column(**{**spec, "allowed": tuple(spec["allowed"]) if "allowed" in spec else None})
        if col.type not in COLUMN_TYPES:
            raise ValueError(f"{where}: column {col.name!r} has unknown type {col.type!r} (one of {sorted(COLUMN_TYPES)})")
        columns.append(col)
    source = Source(
        name=raw["name"],
        title=raw["title"],
        department=raw["department"],
        format=raw["format"],
        pattern=raw["pattern"],
        encoding=raw.get("encoding", "utf-8"),
        primary_key=tuple(raw["primary_key"]),
        freshness_hours=int(raw.get("freshness_hours", 24)),
        columns=tuple(columns),
        path=path,
    )
    if source.format not in FORMATS:
        raise ValueError(f"{where}: unknown format {source.format!r} (one of {sorted(FORMATS)})")
    missing_keys = set(source.primary_key) - set(source.column_names)
    if missing_keys:
        raise ValueError(f"{where}: primary key columns {sorted(missing_keys)} are not declared")
    return source


def load_catalog(sources_dir: Path = SOURCES_DIR) -> dict[str, Source]:
    """All sources, by name, in a stable order."""
    sources = [_parse_source(p) for p in sorted(sources_dir.glob("*.yaml"))]
    return {s.name: s for s in sources}

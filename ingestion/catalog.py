"""The declarative source catalog: one YAML file per departmental source in `ingestion/sources/`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

SOURCES_DIR = Path(__file__).parent / "sources"
COLUMN_TYPES = {"string", "date", "datetime", "integer", "float", "boolean"}
FORMATS = {"csv", "xlsx", "json", "ndjson"}
# `auto` sniffs the bytes (BOM, UTF-8 validity, then the legacy Vietnamese encodings); see ingestion.encodings.
ENCODINGS = {"utf-8", "utf-8-sig", "utf-16", "cp1258", "tcvn3", "vni", "auto"}
LOAD_MODES = {"append", "upsert"}
# How numbers are written: `vi` = "1.234,5" (dots group thousands, comma is the decimal mark; plain "1234.5" still
# reads), `plain` = machine numbers as JSON writes them. JSON dumps default to plain, text files to vi.
NUMBER_FORMATS = {"vi", "plain"}
# Longest value a column takes, in characters, unless its spec says `max_length`: a longer value is quarantined
# (a free-text note fits; a pasted document or a runaway export does not reach silver, the marts or open data).
DEFAULT_MAX_LENGTH = 4_000
# Two lines of one file with the same primary key: `quarantine` both (which is right is unknown), or `keep_last`
# (the later line is a correction); append sources default to quarantine, upsert sources to keep_last.
DUPLICATE_KEYS = {"quarantine", "keep_last"}


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
    description: str | None = None
    max_length: int = DEFAULT_MAX_LENGTH


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
    delimiter: str = ","
    load_mode: str = "append"
    number_format: str = "vi"
    freshness_hours: int = 24
    partitioned_by: str | None = None  # "file_date": daily partitions keyed by the date in the file name
    retention_years: int | None = None  # rows older than this leave bronze and silver (weekly maintenance)
    retention_date_column: str | None = None  # the date a row's age counts from; default its ingest time
    duplicate_keys: str = "quarantine"
    path: Path = field(default=Path(), compare=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    @property
    def header_map(self) -> dict[str, str]:
        """Header as written by the department → contract column name."""
        return {c.header: c.name for c in self.columns}

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _normalise_encoding(value: str) -> str:
    text = str(value).strip().lower().replace("_", "-")
    return {
        "utf8": "utf-8",
        "utf-8-bom": "utf-8-sig",
        "utf8-sig": "utf-8-sig",
        "utf16": "utf-16",
        "windows-1258": "cp1258",
        "tcvn": "tcvn3",
        "tcvn-3": "tcvn3",
        "abc": "tcvn3",
        "vni-windows": "vni",
    }.get(text, text)


def _parse_source(path: Path) -> Source:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = f"{path.name}"
    columns = []
    for spec in raw["columns"]:
        col = Column(**{**spec, "allowed": tuple(spec["allowed"]) if "allowed" in spec else None})
        if not isinstance(col.max_length, int) or col.max_length < 1:
            raise ValueError(f"{where}: column {col.name!r} has max_length {col.max_length!r} (a positive integer)")
        if col.type not in COLUMN_TYPES:
            raise ValueError(
                f"{where}: column {col.name!r} has unknown type {col.type!r} (one of {sorted(COLUMN_TYPES)})"
            )
        columns.append(col)
    fmt = raw["format"]
    source = Source(
        name=raw["name"],
        title=raw["title"],
        department=raw["department"],
        format=fmt,
        pattern=raw["pattern"],
        encoding=_normalise_encoding(raw.get("encoding", "utf-8")),
        delimiter=raw.get("delimiter", ","),
        load_mode=raw.get("load_mode", "append"),
        duplicate_keys=raw.get("duplicate_keys", "keep_last" if raw.get("load_mode") == "upsert" else "quarantine"),
        number_format=raw.get("number_format", "plain" if fmt in ("json", "ndjson") else "vi"),
        primary_key=tuple(raw["primary_key"]),
        freshness_hours=int(raw.get("freshness_hours", 24)),
        partitioned_by=raw.get("partitioned_by"),
        retention_years=raw.get("retention_years"),
        retention_date_column=raw.get("retention_date_column"),
        columns=tuple(columns),
        path=path,
    )
    if source.format not in FORMATS:
        raise ValueError(f"{where}: unknown format {source.format!r} (one of {sorted(FORMATS)})")
    if source.encoding not in ENCODINGS:
        raise ValueError(f"{where}: unknown encoding {source.encoding!r} (one of {sorted(ENCODINGS)})")
    if source.load_mode not in LOAD_MODES:
        raise ValueError(f"{where}: unknown load_mode {source.load_mode!r} (one of {sorted(LOAD_MODES)})")
    if source.duplicate_keys not in DUPLICATE_KEYS:
        raise ValueError(f"{where}: unknown duplicate_keys {source.duplicate_keys!r} (one of {sorted(DUPLICATE_KEYS)})")
    if source.number_format not in NUMBER_FORMATS:
        raise ValueError(f"{where}: unknown number_format {source.number_format!r} (one of {sorted(NUMBER_FORMATS)})")
    if len(source.delimiter) != 1:
        raise ValueError(f"{where}: delimiter must be one character, got {source.delimiter!r}")
    if source.partitioned_by not in (None, "file_date"):
        raise ValueError(f"{where}: partitioned_by must be 'file_date' or absent, got {source.partitioned_by!r}")
    missing_keys = set(source.primary_key) - set(source.column_names)
    if missing_keys:
        raise ValueError(f"{where}: primary key columns {sorted(missing_keys)} are not declared")
    names = source.column_names
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: a column name is declared twice")
    return source


def load_catalog(sources_dir: Path = SOURCES_DIR) -> dict[str, Source]:
    """All sources, by name, in a stable order."""
    sources = [_parse_source(p) for p in sorted(sources_dir.glob("*.yaml"))]
    return {s.name: s for s in sources}

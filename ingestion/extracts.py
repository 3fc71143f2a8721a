"""Read one landing file into a frame of raw strings named by the source's contract.

One reader per format (csv, xlsx, json array, ndjson); text is decoded with `ingestion.encodings` (declared or
detected) and headers are matched to contract names tolerantly (NFC/NFD, case, tone-mark placement, spacing).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from ingestion.catalog import Source
from ingestion.encodings import DecodeError, decode, detect

READ_CHUNK = 1 << 20
FILE_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class ExtractError(ValueError):
    """A landing file that cannot be read against its contract; the message names the file and the rule."""


@dataclass
class Extract:
    """What a file held: contract columns (strings, null where an optional column is absent) plus any
    undeclared columns the department added, under a slug of their header."""

    frame: pl.DataFrame
    encoding: str
    extra_columns: dict[str, str] = field(default_factory=dict)  # slug → header as written
    missing_optional: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def landing_files(source: Source, landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob(source.pattern) if p.is_file())


def file_date(path: Path) -> date | None:
    """The extract date written in a file name (`dossiers_2026-10-31.csv`, `..._20261031.csv`), if any."""
    match = FILE_DATE.search(path.stem)
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def first_row_number(source: Source) -> int:
    """Line (or record) number of the first data row: headers take line 1 of a CSV and row 1 of a sheet."""
    return 2 if source.format in ("csv", "xlsx") else 1


def header_key(text: str) -> str:
    """NFC, trimmed, single-spaced, case-folded: 'Mã  xã ' and 'MÃ XÃ' (NFD) give the same key."""
    return " ".join(unicodedata.normalize("NFC", str(text).lstrip("\ufeff")).split()).casefold()


def loose_key(text: str) -> str:
    """Diacritics dropped as well, so 'Hoà' (old tone placement) and 'Hòa' meet; used only when unambiguous."""
    decomposed = unicodedata.normalize("NFD", header_key(text)).replace("đ", "d")
    return re.sub(r"[^0-9a-z]+", " ", "".join(c for c in decomposed if not unicodedata.combining(c))).strip()


def slug(text: str) -> str:
    return loose_key(text).replace(" ", "_") or "column"


def _read_csv_text(source: Source, path: Path) -> tuple[pl.DataFrame, str]:
    declared = source.encoding
    options = dict(infer_schema_length=0, separator=source.delimiter, quote_char='"')
    if declared in ("utf-8", "utf-8-sig"):
        try:
            return pl.read_csv(path, encoding="utf8", **options), declared
        except pl.exceptions.ComputeError as exc:
            if "invalid utf-8" not in str(exc).lower() and "utf8" not in str(exc).lower():
                raise
            data = path.read_bytes()
            found = detect(data)
            if found in ("utf-8", "utf-8-sig"):
                raise
            text = decode(data, found)
            return pl.read_csv(io.BytesIO(text.encode("utf-8")), **options), f"{found} (declared {declared})"
    data = path.read_bytes()
    encoding = detect(data) if declared == "auto" else declared
    text = decode(data, encoding)
    return pl.read_csv(io.BytesIO(text.encode("utf-8")), **options), encoding


def _as_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """Every value as text (numbers as JSON writes them); nested values as JSON text."""
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Struct):
            exprs.append(pl.col(name).struct.json_encode())
        elif isinstance(dtype, (pl.List, pl.Array)):
            exprs.append(pl.col(name).cast(pl.List(pl.String)).list.join(","))
        elif dtype == pl.Null:
            exprs.append(pl.col(name).cast(pl.String))
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


def _read_raw(source: Source, path: Path) -> tuple[pl.DataFrame, str]:
    if source.format == "xlsx":
        return pl.read_excel(path, engine="calamine", infer_schema_length=0), "xlsx"
    if source.format == "csv":
        return _read_csv_text(source, path)
    data = path.read_bytes()
    encoding = detect(data) if source.encoding == "auto" else source.encoding
    if encoding in ("utf-8", "utf-8-sig"):
        # polars reads UTF-8 itself (and rejects invalid bytes); silver normalises to NFC
        text = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    else:
        text = decode(data, encoding).encode("utf-8")
    if source.format == "json":
        if not text.strip().startswith(b"["):
            raise ExtractError("a JSON dump must be an array of records")
        frame = pl.read_json(io.BytesIO(text), infer_schema_length=None)
    else:
        frame = pl.read_ndjson(io.BytesIO(text), infer_schema_length=None)
    return _as_strings(frame), encoding


def match_headers(source: Source, headers: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(file header → contract name, undeclared file header → slug)."""
    exact = {}
    for column in source.columns:
        exact[header_key(column.header)] = column.name
        exact.setdefault(header_key(column.name), column.name)
    loose: dict[str, set[str]] = {}
    for key, name in exact.items():
        loose.setdefault(loose_key(key), set()).add(name)
    renames, extras, taken = {}, {}, set()
    for header in headers:
        name = exact.get(header_key(header))
        if name is None:
            candidates = loose.get(loose_key(header), set())
            name = next(iter(candidates)) if len(candidates) == 1 else None
        if name is not None and name not in taken:
            renames[header] = name
            taken.add(name)
        else:
            extras[header] = slug(header)
    return renames, extras


def read_extract(source: Source, path: Path) -> Extract:
    """Raw values as strings, columns renamed from the department's headers to contract names.

    Raises ExtractError (naming the file and the reason) when the file cannot be parsed at all or lacks a
    required column; a missing optional column is filled with nulls and reported.
    """
    try:
        raw, encoding = _read_raw(source, path)
    except (ExtractError, DecodeError) as exc:
        raise ExtractError(f"{path.name}: cannot be read as {source.format} ({exc})") from exc
    except Exception as exc:  # the parser's own message says what is wrong; we add which file
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExtractError(f"{path.name}: cannot be read as {source.format} ({type(exc).__name__}: {message})") from exc
    renames, extras = match_headers(source, raw.columns)
    missing = [c for c in source.columns if c.name not in renames.values()]
    missing_required = [c for c in missing if c.required]
    if missing_required:
        wanted = ", ".join(f"'{c.header}' ({c.name})" for c in missing_required)
        raise ExtractError(f"{path.name}: missing required column(s) {wanted} of the {source.name} contract")
    taken = set(source.column_names)
    extra_names = {}
    for header, name in extras.items():
        while name in taken or name.startswith("_"):
            name = f"extra_{name}"
        taken.add(name)
        extra_names[header] = name
    frame = raw.rename({**renames, **extra_names}).with_columns(
        pl.lit(None, dtype=pl.String).alias(c.name) for c in missing
    )
    notes = []
    if "declared" in encoding:
        notes.append(f"{path.name}: decoded as {encoding}")
    if missing:
        notes.append(f"{path.name}: optional column(s) {', '.join(c.header for c in missing)} absent, left empty")
    if extra_names:
        notes.append(
            f"{path.name}: undeclared column(s) {', '.join(f'{h!r} → {n}' for h, n in extra_names.items())}"
            f" kept in bronze (schema evolution)"
        )
    ordered = [*source.column_names, *extra_names.values()]
    return Extract(
        frame=frame.select(pl.col(c).cast(pl.String) for c in ordered),
        encoding=encoding,
        extra_columns={n: h for h, n in extra_names.items()},
        missing_optional=[c.name for c in missing],
        notes=notes,
    )

"""Read one landing file into a frame of raw strings named by the source's contract.

One reader per format (csv, xlsx, json array, ndjson); text is decoded with `ingestion.encodings` (declared or
detected) and headers are matched to contract names tolerantly (NFC/NFD, case, tone-mark placement, spacing).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from ingestion.catalog import Source
from ingestion.encodings import (
    LEGACY,
    READABLE_SCORE,
    SAMPLE_BYTES,
    DecodeError,
    decode,
    describe_best,
    detect,
    legacy_scores,
    looks_binary,
    misdeclared,
)

READ_CHUNK = 1 << 20
RECORD_PREVIEW = 2_000  # characters of an unreadable line or file kept in the quarantine's `record`
FILE_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class ExtractError(ValueError):
    """A landing file that cannot be read against its contract; the message names the file and the rule.

    `rows` is how many records the file held when that is known (it parsed, but a required column is missing)."""

    def __init__(self, message: str, rows: int = 0):
        super().__init__(message)
        self.rows = rows


@dataclass
class BadLine:
    """One line of a file that cannot be a record (an extra field, broken JSON): quarantined, the rest lands."""

    row_number: int
    reason: str
    record: str


@dataclass
class Extract:
    """What a file held: contract columns (strings, null where an optional column is absent) plus any
    undeclared columns the department added, under a slug of their header."""

    frame: pl.DataFrame
    encoding: str
    extra_columns: dict[str, str] = field(default_factory=dict)  # slug → header as written
    missing_optional: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    row_numbers: list[int] | None = None  # line of each row, when lines were read one by one; else consecutive
    bad_lines: list[BadLine] = field(default_factory=list)


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


def _text(source: Source, path: Path) -> tuple[bytes | Path, str]:
    """What polars reads, and in which encoding: the file itself when declared UTF-8 (polars validates it, and an
    invalid file is sniffed on its error), else its text re-encoded as UTF-8. Raises on empty and binary files."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head:
        raise ExtractError("the file is empty (0 bytes): no header, no rows")
    if source.encoding != "utf-16" and looks_binary(head):
        raise ExtractError(describe_best(head))
    if source.encoding in ("utf-8", "utf-8-sig"):
        return path, source.encoding
    return _decoded(source, path.read_bytes())


def _decoded(source: Source, data: bytes) -> tuple[bytes, str]:
    """The bytes as UTF-8 text in their declared encoding, or the sniffed one (declared `auto`, or UTF-8 that is not
    valid); raises when the declared legacy encoding reads much worse than another, or nothing reads as Vietnamese."""
    declared = source.encoding
    if declared in ("auto", "utf-8", "utf-8-sig"):
        encoding = detect(data)
        if encoding in LEGACY and legacy_scores(data)[encoding] < READABLE_SCORE:
            raise ExtractError(("" if declared == "auto" else f"not valid {declared}; ") + describe_best(data))
        if declared != "auto":
            if encoding in ("utf-8", "utf-8-sig"):
                decode(data, declared)  # raises, saying where
            encoding = f"{encoding} (declared {declared})"
    else:
        if (why := misdeclared(data, declared)) is not None:
            raise ExtractError(why)
        encoding = declared
    return decode(data, encoding.split(" ")[0]).encode("utf-8"), encoding


def _utf8_bytes(text: bytes | Path) -> bytes:
    data = text.read_bytes() if isinstance(text, Path) else text
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _read_csv_text(source: Source, text: bytes | Path) -> tuple[pl.DataFrame, list[int] | None, list[BadLine]]:
    try:
        readable = text if isinstance(text, Path) else io.BytesIO(text)
        frame = pl.read_csv(readable, infer_schema_length=0, separator=source.delimiter, quote_char='"')
        return frame, None, []
    except pl.exceptions.ComputeError as error:
        if "utf" in str(error).lower():
            raise
        frame, lines, bad = _csv_line_by_line(source, _utf8_bytes(text).decode("utf-8"))
        if not bad:
            raise error
        return frame, lines, bad


def _csv_line_by_line(source: Source, text: str) -> tuple[pl.DataFrame, list[int], list[BadLine]]:
    """The slow path, taken only when polars rejects the file: each record on its own, so that a line with more
    fields than the header is quarantined with its line number and the others land (short lines are padded with
    empty values, as polars does)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter, quotechar='"')
    header = [h.lstrip("\ufeff") for h in next(reader, [])]
    columns: list[list[str | None]] = [[] for _ in header]
    lines, bad, start = [], [], reader.line_num + 1
    for record in reader:
        if len(record) > len(header):
            bad.append(
                BadLine(
                    start,
                    f"a line of {len(record)} fields where the header has {len(header)} (a stray "
                    f"{source.delimiter!r} or an unquoted value containing one)",
                    json.dumps(record, ensure_ascii=False)[:RECORD_PREVIEW],
                )
            )
        else:
            for values, value in zip(columns, [*record, *[None] * (len(header) - len(record))]):
                values.append(value)
            lines.append(start)
        start = reader.line_num + 1
    names = [h if header.index(h) == i else f"{h}_duplicated_{i}" for i, h in enumerate(header)]
    frame = pl.DataFrame({n: pl.Series(n, v, dtype=pl.String) for n, v in zip(names, columns)})
    return frame, lines, bad


def _ndjson_line_by_line(text: bytes) -> tuple[pl.DataFrame, list[int], list[BadLine]]:
    """The slow path, taken only when polars rejects the file: a line that is not a JSON object is quarantined
    with its line number; the good lines are read by polars as before."""
    good, lines, bad = [], [], []
    for number, line in enumerate(text.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
            reason = None if isinstance(value, dict) else f"a JSON {type(value).__name__}, not a record"
        except json.JSONDecodeError as error:
            reason = f"not valid JSON ({error.msg} at character {error.colno})"
        if reason is None:
            good.append(line)
            lines.append(number)
        else:
            bad.append(BadLine(number, reason, line.decode("utf-8", errors="replace")[:RECORD_PREVIEW]))
    if not good:
        first = f" (line {bad[0].row_number}: {bad[0].reason})" if bad else ""
        raise ExtractError(f"no line is a JSON record{first}")
    return pl.read_ndjson(io.BytesIO(b"\n".join(good)), infer_schema_length=None), lines, bad


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


def _read_raw(source: Source, path: Path) -> tuple[pl.DataFrame, str, list[int] | None, list[BadLine]]:
    if source.format == "xlsx":
        return pl.read_excel(path, engine="calamine", infer_schema_length=0), "xlsx", None, []
    text, encoding = _text(source, path)
    if source.format == "csv":
        try:
            frame, lines, bad = _read_csv_text(source, text)
        except pl.exceptions.ComputeError as error:
            if not isinstance(text, Path) or "utf" not in str(error).lower():
                raise
            text, encoding = _decoded(source, path.read_bytes())  # declared UTF-8, but it is not: sniffed
            frame, lines, bad = _read_csv_text(source, text)
        return frame, encoding, lines, bad
    text = _utf8_bytes(text)  # polars reads UTF-8 itself (and rejects invalid bytes); silver normalises to NFC
    if source.format == "json":
        if not text.strip().startswith(b"["):
            raise ExtractError("a JSON dump must be an array of records")
        return _as_strings(pl.read_json(io.BytesIO(text), infer_schema_length=None)), encoding, None, []
    try:
        return _as_strings(pl.read_ndjson(io.BytesIO(text), infer_schema_length=None)), encoding, None, []
    except pl.exceptions.ComputeError:
        frame, lines, bad = _ndjson_line_by_line(text)
        return _as_strings(frame), encoding, lines, bad


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
        raw, encoding, row_numbers, bad_lines = _read_raw(source, path)
    except (ExtractError, DecodeError) as exc:
        raise ExtractError(f"{path.name}: cannot be read as {source.format}: {exc}") from exc
    except Exception as exc:  # the parser's own message says what is wrong; we add which file
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExtractError(f"{path.name}: cannot be read as {source.format} ({type(exc).__name__}: {message})") from exc
    renames, extras = match_headers(source, raw.columns)
    missing = [c for c in source.columns if c.name not in renames.values()]
    missing_required = [c for c in missing if c.required]
    if missing_required:
        wanted = ", ".join(f"'{c.header}' ({c.name})" for c in missing_required)
        raise ExtractError(
            f"{path.name}: missing required column(s) {wanted} of the {source.name} contract",
            rows=raw.height + len(bad_lines),
        )
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
    if bad_lines:
        notes.append(f"{path.name}: {len(bad_lines):,} unreadable line(s) quarantined, the other rows land")
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
        row_numbers=row_numbers,
        bad_lines=bad_lines,
    )

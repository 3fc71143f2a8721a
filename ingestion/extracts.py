"""Read one landing file into a frame of raw strings named by the source's contract."""

from __future__ import annotations

import hashlib
import io
import unicodedata
from pathlib import Path

import polars as pl

from ingestion.catalog import Source

READ_CHUNK = 1 << 20


class ExtractError(ValueError):
    """A landing file that cannot be read against its contract; the message names the file and the rule."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def landing_files(source: Source, landing: Path) -> list[Path]:
    return sorted(p for p in landing.glob(source.pattern) if p.is_file())


def _read_raw(source: Source, path: Path) -> pl.DataFrame:
    if source.format == "xlsx":
        return pl.read_excel(path, engine="calamine", infer_schema_length=0)
    encoding = source.encoding.lower().replace("_", "-")
    if encoding in ("utf-8", "utf8", "utf-8-sig"):
        return pl.read_csv(path, infer_schema_length=0, encoding="utf8")
    text = path.read_bytes().decode(source.encoding)
    return pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema_length=0)


def read_extract(source: Source, path: Path) -> pl.DataFrame:
    """Raw values as strings, columns renamed from the department's headers to contract names.

    Headers are matched after NFC normalisation, so 'Mã xã' typed with combining marks still maps.
    """
    try:
        raw = _read_raw(source, path)
    except Exception as exc:  # the parser's own message says what is wrong; we add which file
        raise ExtractError(f"{path.name}: cannot be read as {source.format} ({exc})") from exc
    by_header = {unicodedata.normalize("NFC", h).strip(): n for h, n in source.header_map.items()}
    renames = {}
    for column in raw.columns:
        key = unicodedata.normalize("NFC", column.lstrip("\ufeff")).strip()
        if key in by_header:
            renames[column] = by_header[key]
        elif key in source.column_names:
            renames[column] = key
    frame = raw.rename(renames)
    missing = [c for c in source.columns if c.name not in frame.columns]
    if missing:
        wanted = ", ".join(f"'{c.header}' ({c.name})" for c in missing)
        raise ExtractError(f"{path.name}: missing column(s) {wanted} required by the {source.name} contract")
    return frame.select(pl.col(c).cast(pl.String) for c in source.column_names)

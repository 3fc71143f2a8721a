"""Scan every column of every table of a DuckDB database for values that look like personal data.

Rules (a value is every cell cast to text; the two patterns apply to non-numeric columns):
- `cccd`: a 12-digit citizen ID (CCCD starts with 0: province code 001–096), alone or between non-alphanumerics
  (so a 12-digit run inside a hex pseudonym does not count);
- `phone`: a Vietnamese mobile (0/+84 then 3,5,7,8,9 and 8 digits) or landline (02x… 11 digits) number;
- `known_id`: equal to a CCCD or phone number of the population, also with the leading zero lost (a number column);
- `name`: holds a full name of the population (case-insensitive, NFC), as the whole value or inside a text.
The shared-file asset runs it before publishing (and refuses on any hit); tests run it on the real output.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import polars as pl

CCCD_RE = r"(^|[^0-9A-Za-z])0[0-9]{11}([^0-9A-Za-z]|$)"
PHONE_RE = r"(^|[^0-9A-Za-z+])(\+84|84|0)[ .-]?([35789]([ .-]?[0-9]){8}|2([ .-]?[0-9]){9})([^0-9A-Za-z]|$)"
TEXT_TYPES = ("VARCHAR", "JSON")
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE")


@dataclass(frozen=True)
class Needles:
    """What the population's personal data looks like: full names, CCCDs and phone numbers."""
    names: frozenset[str] = frozenset()
    cccds: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()

    @classmethod
    def of(cls, names: Iterable[str] = (), cccds: Iterable[str] = (), phones: Iterable[str] = ()) -> "Needles":
        return cls(frozenset(_norm(n) for n in names if n and len(n.split()) >= 2),
                   frozenset(c for c in cccds if c), frozenset(p for p in phones if p))


@dataclass(frozen=True)
class ColumnScan:
    table: str
    column: str
    type: str
    values: int
    hits: dict[str, int] = field(default_factory=dict)
    sample: str | None = None  # a masked example of a hit, enough to find it, not to read it

    @property
    def hit_count(self) -> int:
        return sum(self.hits.values())


@dataclass(frozen=True)
class ScanReport:
    columns: tuple[ColumnScan, ...]

    @property
    def tables(self) -> list[str]:
        return sorted({c.table for c in self.columns})

    @property
    def hits(self) -> list[ColumnScan]:
        return [c for c in self.columns if c.hit_count]

    @property
    def values_scanned(self) -> int:
        return sum(c.values for c in self.columns)

    def summary(self) -> str:
        text = (f"PII scan: {len(self.tables)} tables, {len(self.columns)} columns, {self.values_scanned:,} values, "
                f"{sum(c.hit_count for c in self.hits)} hits")
        for c in self.hits:
            text += f"\n  {c.table}.{c.column}: {c.hits} e.g. {c.sample}"
        return text


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def _mask(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 3, 0)


def scan(con: duckdb.DuckDBPyConnection, needles: Needles = Needles(), database: str | None = None) -> ScanReport:
    """Scan every base table of `database` (default: the connection's own) column by column."""
    database = database or con.execute("select current_database()").fetchall()[0][0]
    columns = con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = $1 and not internal order by 1, 2, column_index", [database]).fetchall()
    con.execute("create or replace temp table _pii_ids as select unnest($1::varchar[]) as v", [sorted(
        {*needles.cccds, *needles.phones, *(c.lstrip("0") for c in needles.cccds),
         *(p.lstrip("0") for p in needles.phones)})])
    names = pl.Series(sorted(needles.names), dtype=pl.String)
    results = []
    for schema, table, column, data_type in columns:
        ref = f'"{database}"."{schema}"."{table}"'
        value = f'"{column}"::varchar'
        textual = not (data_type in NUMERIC_TYPES or data_type.startswith("DECIMAL"))
        # Numbers are checked against the population's identifiers (a CCCD or phone stored as a number loses its
        # leading zero); the patterns are for text, where a decimal's digits cannot pass for a phone number.
        known_value = value if textual else f'try_cast("{column}" as hugeint)::varchar'
        cccd_rule = f"regexp_matches({value}, '{CCCD_RE}')" if textual else "false"
        phone_rule = f"regexp_matches({value}, '{PHONE_RE}')" if textual else "false"
        known_rule = f"{known_value} in (select v from _pii_ids)"
        values, cccd, phone, known = con.execute(f"""
            select count({value}), count(*) filter (where {cccd_rule}), count(*) filter (where {phone_rule}),
                   count(*) filter (where {known_rule})
            from {ref}""").fetchall()[0]
        hits = {k: n for k, n in (("cccd", cccd), ("phone", phone), ("known_id", known)) if n}
        sample = None
        if hits:
            sample = _mask(con.execute(f"select {value} from {ref} where {cccd_rule} or {phone_rule} or {known_rule} "
                                       "limit 1").fetchall()[0][0])
        if len(names) and (data_type in TEXT_TYPES or data_type.startswith("VARCHAR")):
            distinct = con.sql(f"select distinct {value} as v from {ref} where {value} is not null").pl()["v"]
            lowered = distinct.str.normalize("NFC").str.to_lowercase()
            found = lowered.str.contains_any(names.implode())
            if found.any():
                hits["name"] = int(found.sum())
                sample = sample or _mask(distinct.filter(found)[0])
        results.append(ColumnScan(f"{schema}.{table}", column, data_type, values, hits, sample))
    con.execute("drop table if exists _pii_ids")
    return ScanReport(tuple(results))

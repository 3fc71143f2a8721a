"""Scan every column of every table of a DuckDB database for values that look like personal data.

Rules (a value is every cell cast to text; the two patterns apply to non-numeric columns):
- `cccd`: a 12-digit citizen ID (CCCD starts with 0: province code 001–096), alone or between non-alphanumerics
  (so a 12-digit run inside a hex pseudonym does not count);
- `phone`: a Vietnamese mobile (0/+84 then 3,5,7,8,9 and 8 digits) or landline (02x… 11 digits) number;
- `known_id`: equal to a CCCD or phone number of the population, also with the leading zero lost (a number column,
  when at least 1 % of its values are: at province scale a few amounts equal a 9-digit phone number by chance);
- `name`: holds a full name of the population (case-insensitive, NFC), as the whole value or inside a text.
Everything that leaves the restricted tier is scanned with it before it is renamed into place, and refused on any hit
(`refuse_leaks`): the shared file, the published mart exports (`scan_parquet`) and the open data; tests run it on the
real output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path

import duckdb
import polars as pl

from ingestion.catalog import load_catalog
from ingestion.duckdb_delta import quoted, sql_string

CCCD_RE = r"(^|[^0-9A-Za-z])0[0-9]{11}([^0-9A-Za-z]|$)"
PHONE_RE = r"(^|[^0-9A-Za-z+])(\+84|84|0)[ .-]?([35789]([ .-]?[0-9]){8}|2([ .-]?[0-9]){9})([^0-9A-Za-z]|$)"
TEXT_TYPES = ("VARCHAR", "JSON")
ASCII_BLANKS = (32, 9, 10, 12, 13)  # what RE2's \s matches: space, tab, line feed, form feed, carriage return
# Where the warehouse holds the population's names and identifiers (first that exists).
NEEDLE_SOURCES = ("conformed.dim_citizen", "staging.stg_citizens", "silver.citizens")
NEEDLES_CHANGED_SINCE = "built_at"  # a needle source's column: when its row last changed
NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
)


@dataclass(frozen=True)
class WarehouseIdentifiers:
    """The population's CCCDs and phone numbers left where they are, in a warehouse file's relation: the scan reads
    them there (millions of values cost more to bring into Python and back into DuckDB than the scan itself)."""

    path: str
    relation: str  # schema.table
    columns: tuple[str, ...]  # which of cccd, phone it has
    count: int
    since: str | None = None  # only the rows whose `built_at` is after it

    def query(self, database: str) -> str:
        """Every identifier (column `v`), on a connection where the file is attached as `database`."""
        changed = f" and {quoted(NEEDLES_CHANGED_SINCE)} > {sql_string(self.since)}" if self.since is not None else ""
        return " union all ".join(
            f"select {quoted(c)}::varchar as v from {quoted(database)}.{self.relation} "
            f"where {quoted(c)}::varchar <> ''{changed}"
            for c in self.columns
        )


@dataclass(frozen=True, eq=False)
class Needles:
    """What the population's personal data looks like: distinct full names (NFC, lower case), CCCDs and phone numbers.

    All three stay polars Series: at province scale there are millions, and Python sets of them cost more than the
    scan itself. The warehouse's identifiers stay in the warehouse (`in_warehouse`) instead of `cccds`/`phones`."""

    names: pl.Series = field(default_factory=lambda: pl.Series("v", [], dtype=pl.String))
    cccds: pl.Series = field(default_factory=lambda: pl.Series("v", [], dtype=pl.String))
    phones: pl.Series = field(default_factory=lambda: pl.Series("v", [], dtype=pl.String))
    in_warehouse: WarehouseIdentifiers | None = None

    @classmethod
    def of(cls, names: Iterable[str] = (), cccds: Iterable[str] = (), phones: Iterable[str] = ()) -> Needles:
        return cls(_full_names(_distinct(names)), _distinct(cccds), _distinct(phones))

    def __len__(self) -> int:
        identifiers = self.in_warehouse.count if self.in_warehouse else len(self.cccds) + len(self.phones)
        return len(self.names) + identifiers

    def identifiers(self) -> pl.DataFrame:
        """Every CCCD and phone number, also with its leading zeros lost (stored as a number somewhere). Not made
        distinct: it is only the right side of `in (select v ...)`, where a repeat costs nothing."""
        both = pl.concat([self.cccds, self.phones])
        return pl.concat([both, both.str.strip_chars_start("0")]).to_frame("v")


def _full_names(names: pl.Series) -> pl.Series:
    """Distinct names as the scan matches them: NFC, lower case, at least two words."""
    names = names.str.normalize("NFC").str.to_lowercase()
    return names.filter(names.str.count_matches(r"\S+") >= 2).unique()


def _distinct(values: Iterable[str]) -> pl.Series:
    series = values if isinstance(values, pl.Series) else pl.Series("v", list(values), dtype=pl.String)
    series = series.cast(pl.String).rename("v")
    return series.filter(series.is_not_null() & (series != "")).unique()


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
    tables_in_part: int = 0  # tables whose unchanged rows were checked against new needles only

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
        text = (
            f"PII scan: {len(self.tables)} tables, {len(self.columns)} columns, {self.values_scanned:,} values, "
            f"{sum(c.hit_count for c in self.hits)} hits"
            + (f" ({self.tables_in_part} tables' old rows against new needles only)" if self.tables_in_part else "")
        )
        for c in self.hits:
            text += f"\n  {c.table}.{c.column}: {c.hits} e.g. {c.sample}"
        return text


class PersonalDataLeak(RuntimeError):
    pass


def refuse_leaks(report: ScanReport, target: str) -> None:
    """Raise PersonalDataLeak naming each leaking table.column and rule (values masked) when the scan hit."""
    if report.hits:
        raise PersonalDataLeak(
            f"{target} not published, the previous file (if any) is kept: {report.summary()}\n"
            f"Không công bố {target}: có dữ liệu cá nhân chưa được xử lý (bảng.cột và quy tắc ở trên)."
        )


@cache
def contract_pii_columns() -> frozenset[str]:
    """Column names flagged `pii: true` in any source contract: personal wherever they turn up."""
    return frozenset(c.name for source in load_catalog().values() for c in source.columns if c.pii)


def mask(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 3, 0)


def needle_source(columns: dict[str, Iterable[str]]) -> tuple[str | None, bool]:
    """The relation of a warehouse (its column names by relation) the needles come from, and whether it says when
    each row changed."""
    name = next((n for n in NEEDLE_SOURCES if n in columns), None)
    return name, name is not None and NEEDLES_CHANGED_SINCE in set(columns[name])


def warehouse_needles(con: duckdb.DuckDBPyConnection, database: str, since: str | None = None) -> Needles:
    """The population's names (read here) and CCCDs and phones (left in the warehouse) from the warehouse attached to
    `con` as `database`; only of the rows whose `built_at` is after `since`, when given."""
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select schema_name || '.' || table_name, column_name from duckdb_columns() where database_name = $1",
        [database],
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    name, _ = needle_source(columns)
    if name is None:
        return Needles()
    [(path,)] = con.execute("select path from duckdb_databases() where database_name = $1", [database]).fetchall()
    present = tuple(c for c in ("cccd", "phone") if c in columns[name])
    ids = WarehouseIdentifiers(str(Path(path).resolve()), name, present, 0, since)
    count = con.execute(f"select count(*) from ({ids.query(database)})").fetchall()[0][0] if present else 0
    names = pl.Series("v", [], dtype=pl.String)
    if "full_name" in columns[name]:
        # made distinct in DuckDB: a few thousand names out of millions of rows
        text = f"{quoted('full_name')}::varchar"
        changed = f" and {quoted(NEEDLES_CHANGED_SINCE)} > $since" if since is not None else ""
        query = f"select distinct {text} as v from {quoted(database)}.{name} where {text} <> ''{changed}"
        names = con.sql(query, params={"since": since} if since is not None else None).pl()["v"]
    return Needles(_full_names(names), in_warehouse=replace(ids, count=count))


def needles_from_file(warehouse: Path) -> Needles:
    """`warehouse_needles` of a warehouse file, attached read-only (never a writer's lock); read again only when the
    file (or its write-ahead log) has changed, so the exports of one run share one read."""
    versions = tuple(_version(p) for p in (warehouse, warehouse.with_name(warehouse.name + ".wal")))
    return _needles_of_file(str(warehouse), versions)


def _version(path: Path) -> tuple[int, int, int] | None:
    if not path.exists():
        return None
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=1)
def _needles_of_file(warehouse: str, versions: tuple) -> Needles:
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        return warehouse_needles(con, "wh")


def scan_parquet(files: dict[str, Path], needles: Needles) -> ScanReport:
    """Scan Parquet files about to be published, each as the table its key names (`schema.table`), with the same
    rules as a database file: loaded into an in-memory database first (exports are aggregates: small)."""
    with duckdb.connect() as con:
        for name, path in files.items():
            schema, table = name.split(".", 1)
            con.execute(f"create schema if not exists {quoted(schema)}")
            con.execute(f"create table {quoted(schema)}.{quoted(table)} as select * from read_parquet($1)", [str(path)])
        return scan(con, needles)


def scan(
    con: duckdb.DuckDBPyConnection,
    needles: Needles = Needles(),
    database: str | None = None,
    *,
    unchanged: dict[str, str] | None = None,
    new_needles: Needles | None = None,
) -> ScanReport:
    """Scan every base table of `database` (default: the connection's own): the identifier rules in one pass per
    table (and once per distinct value of a column of few values), and one Aho-Corasick pass over every distinct
    multi-word text value of the whole file for the names.

    `unchanged` maps a table (schema.table) to a SQL condition on the rows an earlier clean scan already checked
    against every needle of its time: those rows are checked only against `new_needles` (identifiers and names the
    earlier scan did not have; the patterns cannot have changed), and not read at all when there are none; every
    other row against everything."""
    new_needles = new_needles or Needles()
    database = database or con.execute("select current_database()").fetchall()[0][0]
    unchanged = unchanged or {}
    columns = con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = $1 and not internal order by 1, 2, column_index",
        [database],
    ).fetchall()
    loaded: set[str] = set()

    def loader(table: str) -> Callable[[], str]:
        """Temp table `table` of the identifiers, loaded the first time a column could hold one (most exports
        have no such column)."""
        group = {"_pii_ids": needles, "_pii_new_ids": new_needles}[table]

        def load() -> str:
            if table not in loaded:
                _load_ids(con, table, group)
                loaded.add(table)
            return table

        return load

    by_table: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in columns:
        by_table.setdefault((schema, table), []).append((column, data_type))
    results: list[ColumnScan] = []
    candidates: dict[str, list[str]] = {"all": [], "new": []}
    in_part = 0
    for (schema, table), table_columns in by_table.items():
        ref = ".".join(quoted(part) for part in (database, schema, table))
        old = unchanged.get(f"{schema}.{table}")
        if old is None:
            parts = [(ref, loader("_pii_ids"), True, "all")]
        else:
            in_part += 1
            # the rows written since, once: every rule's query would evaluate `old` (an anti-join) over the table
            changed = f"_pii_changed_{in_part}"
            con.execute(f"create temp table {changed} as select * from {ref} where not coalesce({old}, false)")
            parts = [(f"temp.main.{changed}", loader("_pii_ids"), True, "all")]
            if new_needles:
                parts.append(
                    (f"(select * from {ref} where coalesce({old}, false))", loader("_pii_new_ids"), False, "new")
                )
        for part, ids, patterns, names in parts:
            scanned, queries = _scan_table(con, f"{schema}.{table}", part, table_columns, ids, patterns, len(results))
            results.extend(scanned)
            candidates[names].extend(queries)
    con.execute("drop table if exists _pii_ids; drop table if exists _pii_new_ids")
    for names, group in (("all", needles), ("new", new_needles)):
        if candidates[names] and len(group.names):
            results = _with_name_hits(con, results, candidates[names], group)
    for part in range(1, in_part + 1):
        con.execute(f"drop table _pii_changed_{part}")
    return ScanReport(tuple(_merged(results)), in_part)


def _load_ids(con, table: str, needles: Needles) -> None:
    """The needles' identifiers, also with their leading zeros lost, as temp table `table` (column `v`)."""
    ids = needles.in_warehouse
    if ids is None:
        con.register("_pii_ids_arrow", needles.identifiers())
        con.execute(f"create or replace temp table {table} as select v from _pii_ids_arrow")
        con.unregister("_pii_ids_arrow")
        return
    attached = [
        alias
        for alias, path in con.execute(
            "select database_name, path from duckdb_databases() where path is not null"
        ).fetchall()
        if Path(path).resolve() == Path(ids.path)
    ]
    database = attached[0] if attached else "_pii_warehouse"
    if not attached:
        con.execute(f"attach {sql_string(ids.path)} as {database} (read_only)")
    con.execute(f"create or replace temp table {table} as {ids.query(database)}")
    con.execute(f"insert into {table} select ltrim(v, '0') from {table}")
    if not attached:
        con.execute(f"detach {database}")


def _scan_table(
    con,
    table: str,
    ref: str,
    table_columns: list[tuple[str, str]],
    ids: Callable[[], str],
    patterns: bool,
    offset: int,
) -> tuple[list[ColumnScan], list[str]]:
    """One table's (or part of a table's) columns against the identifiers in the temp table `ids()` names (and the two
    patterns when `patterns`); returns the column results and the name-candidate queries (indices from `offset`)."""
    rules = [_rules(column, data_type, patterns) for column, data_type in table_columns]
    counts = _rule_counts(con, ref, table_columns, rules)
    results, name_candidates = [], []
    for i, ((column, data_type), rule) in enumerate(zip(table_columns, rules)):
        values, cccd, phone, id_like = counts[i]
        # The population's identifiers are looked up only where a value could be one (9–12 digits): one hash
        # join per such column instead of one per column of the file.
        known_rule, known = "false", 0
        if id_like:
            known_rule = f"({rule.id_like} and {rule.id_value} in (select v from {ids()}))"
            known = con.execute(f"select count(*) from {ref} where {known_rule}").fetchall()[0][0]
        if rule.numeric and known * 100 < values:
            known = 0  # a few amounts equal to a phone number without its 0 by chance: not a column of ids
        hits = {k: n for k, n in (("cccd", cccd), ("phone", phone), ("known_id", known)) if n}
        sample = None
        if hits:
            where = " or ".join(w for w, n in ((rule.cccd, cccd), (rule.phone, phone), (known_rule, known)) if n)
            sample = mask(con.execute(f"select {rule.value} from {ref} where {where} limit 1").fetchall()[0][0])
        results.append(ColumnScan(table, column, data_type, values, hits, sample))
        if rule.textual:
            # a full name has at least two words: values without a blank cannot hold one (ids, codes, hashes);
            # `contains` on each blank RE2's \s matches rules out most values before the regex (2.3 -> 0.5 s on 5 M
            # dossiers)
            blank = " or ".join(f"contains({rule.value}, chr({c}))" for c in ASCII_BLANKS)
            name_candidates.append(
                f"select {offset + i} as i, {rule.value} as v from {ref} "
                f"where ({blank}) and regexp_matches({rule.value}, '\\S\\s+\\S') group by all"
            )
    return results, name_candidates


def _merged(results: list[ColumnScan]) -> list[ColumnScan]:
    """One result per column: a table scanned in two parts (changed rows, unchanged rows) adds up."""
    merged: dict[tuple[str, str], ColumnScan] = {}
    for c in results:
        if (seen := merged.get((c.table, c.column))) is None:
            merged[(c.table, c.column)] = c
            continue
        hits = {k: seen.hits.get(k, 0) + c.hits.get(k, 0) for k in {*seen.hits, *c.hits}}
        merged[(c.table, c.column)] = ColumnScan(
            c.table, c.column, c.type, seen.values + c.values, hits, seen.sample or c.sample
        )
    return list(merged.values())


def _rule_counts(con, ref: str, table_columns: list[tuple[str, str]], rules: list[_ColumnRules]) -> list[tuple]:
    """Per column: (values, CCCD pattern hits, phone pattern hits, could-be-identifier values). Columns of many
    values in one pass over the table; text columns of few values (codes, statuses: under one per 100 rows) once per
    distinct value, weighted by its rows (5 M dossiers: 0.3 s a column -> 0.01 s)."""
    textual = [i for i, rule in enumerate(rules) if rule.textual]
    rows, *distinct = con.execute(
        "select count(*)"
        + "".join(f", approx_count_distinct({quoted(table_columns[i][0])})" for i in textual)
        + f" from {ref}"
    ).fetchall()[0]
    few = {i for i, n in zip(textual, distinct) if n * 100 < rows}
    many = [i for i in range(len(rules)) if i not in few]
    counts: dict[int, tuple] = {}
    if many:
        found = con.execute(
            "select " + ", ".join(_tallies(rules[i], "count(*)") for i in many) + f" from {ref}"
        ).fetchall()[0]
        counts |= {i: found[4 * k : 4 * k + 4] for k, i in enumerate(many)}
    for i in few:
        per_value = f"select {quoted(table_columns[i][0])}, count(*) as _pii_rows from {ref} group by all"
        counts[i] = con.execute(f"select {_tallies(rules[i], 'sum(_pii_rows)')} from ({per_value})").fetchall()[0]
    return [counts[i] for i in range(len(rules))]


def _tallies(rule: _ColumnRules, tally: str) -> str:
    return ", ".join(
        f"coalesce({tally} filter (where {condition}), 0)"
        for condition in (f"{rule.value} is not null", rule.cccd, rule.phone, rule.id_like)
    )


@dataclass(frozen=True)
class _ColumnRules:
    value: str  # the cell as text
    textual: bool  # text: patterns and names apply
    numeric: bool
    cccd: str
    phone: str
    id_like: str  # could be an identifier of the population (9 to 12 digits)
    id_value: str  # the value compared with the identifiers


# Dates, times and booleans cannot spell 9 digits in a row or a name: they are counted, not searched.
NOT_SEARCHED_PREFIXES = ("DATE", "TIME", "BOOLEAN", "INTERVAL")


def _rules(column: str, data_type: str, patterns: bool = True) -> _ColumnRules:
    value = f"{quoted(column)}::varchar"
    numeric = data_type in NUMERIC_TYPES or data_type.startswith("DECIMAL")
    searched = not numeric and not data_type.startswith(NOT_SEARCHED_PREFIXES)
    if numeric:
        # A CCCD or phone stored as a number has lost its leading zero: compare the integer's digits.
        digits = f"try_cast({quoted(column)} as hugeint)"
        return _ColumnRules(
            value, False, True, "false", "false", f"({digits} between 100000000 and 999999999999)", f"{digits}::varchar"
        )
    if not searched:
        return _ColumnRules(value, False, False, "false", "false", "false", value)
    # Patterns are for text, where a decimal's digits cannot pass for a phone number.
    return _ColumnRules(
        value,
        True,
        False,
        f"regexp_matches({value}, '{CCCD_RE}')" if patterns else "false",
        f"regexp_matches({value}, '{PHONE_RE}')" if patterns else "false",
        f"(length({value}) between 9 and 12 and regexp_full_match({value}, '[0-9]+'))",
        value,
    )


def _with_name_hits(con, results: list[ColumnScan], candidates: list[str], needles: Needles) -> list[ColumnScan]:
    """Distinct multi-word values of every text column, matched against all population names in one pass."""
    values = pl.concat([con.sql(query).pl() for query in candidates])
    if values.is_empty():
        return results
    found = values.filter(pl.col("v").str.normalize("NFC").str.to_lowercase().str.contains_any(needles.names.implode()))
    for (i,), group in found.group_by(["i"]):
        column = results[i]
        results[i] = ColumnScan(
            column.table,
            column.column,
            column.type,
            column.values,
            {**column.hits, "name": group.height},
            column.sample or mask(group["v"][0]),
        )
    return results

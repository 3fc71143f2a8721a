"""A page of a dataset from validated request parameters: every identifier is one of the dataset's declared
columns, every value is typed and bound as a parameter; no SQL ever comes from the client.

    ?agency_code=X&month__gte=2026-10-01&sort=-month,agency_code&limit=100&offset=0&format=json
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import duckdb
import pyarrow as pa

from ingestion.duckdb_delta import quoted
from service.datasets import Dataset
from service.grants import Grant

RESERVED = ("sort", "limit", "offset", "format")
FORMATS = ("json", "csv", "parquet")
OPERATORS = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in"}
DEFAULT_LIMIT = 100
MAX_OFFSET = 10**9
MAX_IN_VALUES = 100
MAX_TEXT = 200
INT64 = (-(2**63), 2**63 - 1)


class QueryError(ValueError):
    """A parameter that does not fit the dataset (HTTP 400). Messages name the parameter, never repeat its value:
    they go to the ledger, and a value may be a citizen's number."""


class QueryTimeout(RuntimeError):
    pass


@dataclass(frozen=True)
class Page:
    sql: str
    params: list
    columns: list[str]
    limit: int
    offset: int
    format: str


# Text values are data, always bound as parameters: quotes and ';' are legitimate in the shared tier ("Ea H'Leo",
# "(level B; verify)"), so they are matched as written. Refused: invisible characters (control, zero-width, bidi: a
# value that looks like another) and text not in NFC (the tier is NFC, it could never match).
def _text(value: str) -> str:
    if len(value) > MAX_TEXT:
        raise QueryError(f"dài quá {MAX_TEXT} ký tự")
    if unicodedata.normalize("NFC", value) != value:
        raise QueryError("phải ở dạng Unicode NFC (dữ liệu của kho đều là NFC)")
    hidden = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf")), None)
    if hidden is not None:
        raise QueryError(f"có ký tự ẩn (U+{ord(hidden):04X})")
    return value


def _integer(value: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,19}", value) or not INT64[0] <= int(value) <= INT64[1]:
        raise QueryError("không phải số nguyên 64 bit")
    return int(value)


def _decimal(value: str) -> Decimal:
    if not re.fullmatch(r"-?[0-9]{1,18}(\.[0-9]{1,18})?", value):
        raise QueryError("không phải số thập phân (dấu chấm, tối đa 18 chữ số mỗi phần)")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise QueryError("không phải số thập phân") from None


def _date(value: str) -> date:
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise QueryError("không phải ngày dạng YYYY-MM-DD")


def _datetime(value: str) -> datetime:
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?", value):
            return datetime.fromisoformat(value)
    except ValueError:
        pass
    raise QueryError("không phải thời điểm dạng YYYY-MM-DDTHH:MM:SS")


def _boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise QueryError("không phải true/false")
    return value == "true"


PARSERS = {
    "xsd:integer": _integer,
    "xsd:decimal": _decimal,
    "xsd:date": _date,
    "xsd:dateTime": _datetime,
    "xsd:boolean": _boolean,
    "xsd:string": _text,
}


def typed(column_type: str, value: str):
    return PARSERS.get(column_type, _text)(value)


def _condition(dataset: Dataset, column: str, operator: str, raw: str, params: list) -> str:
    parse = PARSERS.get(dataset.columns[column].type, _text)
    values = raw.split(",") if operator == "in" else [raw]
    if not 1 <= len(values) <= MAX_IN_VALUES:
        raise QueryError(f"{column}__in: từ 1 đến {MAX_IN_VALUES} giá trị, cách nhau bởi dấu phẩy")
    try:
        params.extend(parse(v) for v in values)
    except QueryError as error:
        raise QueryError(f"giá trị lọc của {column}: {error}") from None
    if operator == "in":
        return f"{quoted(column)} in ({', '.join('?' * len(values))})"
    return f"{quoted(column)} {OPERATORS[operator]} ?"


def _grant_conditions(dataset: Dataset, grant: Grant, params: list) -> list[str]:
    """The grant's row filter; a column the dataset no longer has denies everything (fail closed)."""
    conditions = []
    for column, values in grant.rows.items():
        if column not in dataset.columns:
            raise PermissionError(f"grant row filter on {column}, which {dataset.id} does not have")
        parse = PARSERS.get(dataset.columns[column].type, _text)
        params.extend(parse(str(v).lower() if isinstance(v, bool) else str(v)) for v in values)
        conditions.append(f"{quoted(column)} in ({', '.join('?' * len(values))})")
    return conditions


def visible_columns(dataset: Dataset, grant: Grant | None) -> list[str]:
    if grant is None or grant.columns is None:
        return list(dataset.columns)
    return [c for c in dataset.columns if c in grant.columns]


def _bounded(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,12}", raw) or not low <= int(raw) <= high:
        raise QueryError(f"{name} phải là số nguyên từ {low} đến {high}")
    return int(raw)


def build_page(dataset: Dataset, grant: Grant | None, query: list[tuple[str, str]], max_rows: int) -> Page:
    """The SQL and bound parameters of the requested page; QueryError on any parameter that does not fit."""
    seen: dict[str, str] = {}
    for name, value in query:
        if name in seen:
            raise QueryError(f"tham số {name[:60]!r} xuất hiện hai lần")
        seen[name] = value
    columns = visible_columns(dataset, grant)
    if not columns:
        raise PermissionError(f"the grant leaves no column of {dataset.id}")
    params: list = []
    conditions = _grant_conditions(dataset, grant, params) if grant else []
    for name, value in seen.items():
        if name in RESERVED:
            continue
        column, _, operator = name.partition("__")
        operator = operator or "eq"
        if column not in columns or operator not in OPERATORS:
            raise QueryError(
                f"tham số {name[:60]!r} không hợp lệ: lọc theo cột của tập dữ liệu "
                f"(COT hoặc COT__{{{','.join(OPERATORS)}}})"
            )
        conditions.append(_condition(dataset, column, operator, value, params))
    order = []
    for item in (seen.get("sort") or "").split(",") if seen.get("sort") else []:
        column = item.removeprefix("-")
        if column not in columns or column in {o[0] for o in order}:
            raise QueryError(f"sort {item[:60]!r} không hợp lệ: tên cột, '-' phía trước để sắp giảm dần")
        order.append((column, "desc" if item.startswith("-") else "asc"))
    limit = _bounded("limit", seen.get("limit"), min(DEFAULT_LIMIT, max_rows), 1, max_rows)
    offset = _bounded("offset", seen.get("offset"), 0, 0, MAX_OFFSET)
    fmt = seen.get("format", "json")
    if fmt not in FORMATS:
        raise QueryError(f"format phải là một trong {', '.join(FORMATS)}")
    if dataset.access == "open":
        source, tie_break = "read_parquet(?, file_row_number = true)", "file_row_number"
        params.insert(0, str(dataset.source))
    else:
        source, tie_break = dataset.source, "rowid"  # a read-only file's row ids are stable: pages do not overlap
    sql = (
        f"select {', '.join(quoted(c) for c in columns)} from {source}"
        + (f" where {' and '.join(conditions)}" if conditions else "")
        + f" order by {''.join(f'{quoted(c)} {d}, ' for c, d in order)}{tie_break} limit ? offset ?"
    )
    return Page(sql, [*params, limit + 1, offset], columns, limit, offset, fmt)


def run(cursor: duckdb.DuckDBPyConnection, page: Page, timeout_seconds: float) -> pa.Table:
    """The page's rows (one more than `limit` when there is a next page), interrupted after `timeout_seconds`."""
    timer = threading.Timer(timeout_seconds, cursor.interrupt)
    timer.start()
    try:
        return cursor.sql(page.sql, params=page.params).to_arrow_table()
    except duckdb.InterruptException:
        raise QueryTimeout(f"truy vấn chạy quá {timeout_seconds:g} giây") from None
    finally:
        timer.cancel()

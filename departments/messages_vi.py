"""Quarantine reasons in the department's words: each rule the loader writes (in English, for the data team) becomes
a Vietnamese reason and what to fix, naming the column by the header the department itself writes.

The loader's reasons (ingestion/silver.py, ingestion/bronze.py) look like
    `<column>: required value missing` · `<column>: not a valid <type> '<value>'` ·
    `<column>: '<value>' does not match <pattern>` · `<column>: '<value>' is not an allowed value` ·
    `file could not be ingested: <file>: missing required column(s) ... | cannot be read as <format> (...)`
and a row breaking several rules has them joined with "; ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from departments.masking import mask_text
from ingestion.catalog import Column, Source

# The contract's patterns, in words: (reason, what to fix).
PATTERNS = {
    r"^\d{12}$": (
        "Số CCCD phải gồm 12 chữ số",
        "Nhập đủ 12 chữ số của thẻ CCCD, không có dấu cách, dấu chấm hay chữ cái",
    ),
    r"^\d{5}$": (
        "Mã xã phải gồm 5 chữ số",
        "Dùng mã xã 5 chữ số theo danh mục đơn vị hành chính hiện hành (sau sắp xếp năm 2025)",
    ),
    r"^0[35789]\d{8}$": (
        "Số điện thoại di động phải gồm 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09",
        "Nhập số di động 10 chữ số (ví dụ 09xxxxxxxx), bỏ +84, dấu cách và dấu chấm",
    ),
    r"^\d{10}(-\d{3})?$": (
        "Mã số thuế phải gồm 10 chữ số (chi nhánh: thêm dấu - và 3 chữ số)",
        "Nhập mã số thuế 10 chữ số, hoặc dạng 0123456789-001 cho chi nhánh",
    ),
    r"^\d{10}$": ("Mã số BHXH phải gồm 10 chữ số", "Nhập đủ 10 chữ số của mã số BHXH"),
    r"^\d{2}$": ("Mã tỉnh phải gồm 2 chữ số", "Nhập mã tỉnh 2 chữ số theo danh mục (Thái Nguyên: 19)"),
    r"^\d{4,5}$": ("Mã ngành kinh tế phải gồm 4 hoặc 5 chữ số", "Dùng mã ngành VSIC 4 hoặc 5 chữ số"),
    r"^\d{4}-\d{4}$": ("Năm học phải có dạng yyyy-yyyy", "Ghi năm học theo dạng 2024-2025"),
    r"^[A-Z]\d{2}(\.\d{1,2})?$": (
        "Mã bệnh không đúng định dạng ICD-10",
        "Ghi mã ICD-10: một chữ in hoa, 2 chữ số, có thể thêm dấu chấm và 1–2 chữ số (ví dụ J45.0)",
    ),
}
TYPES = {
    "date": ("Ngày không hợp lệ", "Sửa lại theo định dạng dd/mm/yyyy (ví dụ 05/03/2025)"),
    "datetime": ("Ngày giờ không hợp lệ", "Sửa lại theo định dạng dd/mm/yyyy hh:mm (ví dụ 05/03/2025 14:30)"),
    "integer": ("Không phải số nguyên", "Ghi số nguyên chỉ gồm chữ số (dấu chấm ngăn cách hàng nghìn: 1.234)"),
    "float": ("Không phải số", "Ghi số theo kiểu Việt Nam: dấu chấm ngăn hàng nghìn, dấu phẩy thập phân (1.234,5)"),
    "boolean": ("Không phải giá trị Có/Không", "Ghi «Có» hoặc «Không»"),
}
UNKNOWN_RULE = ("Dòng không đạt quy tắc dữ liệu của nguồn", "Liên hệ Tổ dữ liệu để được hướng dẫn")

_REQUIRED = re.compile(r"^(?P<col>\w+): required value missing$", re.S)
_TYPE = re.compile(r"^(?P<col>\w+): not a valid (?P<type>\w+) '.*'$", re.S)
_PATTERN = re.compile(r"^(?P<col>\w+): '.*' does not match (?P<pattern>.+)$", re.S)
_ALLOWED = re.compile(r"^(?P<col>\w+): '.*' is not an allowed value$", re.S)
_MISSING_COLUMNS = re.compile(r"missing required column\(s\) (?P<cols>.+) of the \w+ contract")
_CANNOT_READ = re.compile(r"cannot be read as (?P<format>\w+) \((?P<detail>.*)\)$", re.S)


@dataclass(frozen=True)
class Finding:
    """One broken rule of one row, as the department reads it."""

    column: Column | None  # None: the whole file
    reason: str
    fix: str


def split_rules(source: Source, reason: str) -> list[str]:
    """The rules of one quarantine reason; split only where "; " starts a contract column, because a quoted value
    may itself hold "; "."""
    names = "|".join(re.escape(n) for n in sorted(source.column_names, key=len, reverse=True))
    starts = [0, *(m.start() + 2 for m in re.finditer(rf"; (?=(?:{names}): )", reason))]
    return [reason[a:b].removesuffix("; ") for a, b in zip(starts, [*starts[1:], len(reason)])]


def row_findings(source: Source, reason: str) -> list[Finding]:
    """Every rule a quarantined row broke, in Vietnamese."""
    return [_rule_finding(source, rule) for rule in split_rules(source, reason)]


def _rule_finding(source: Source, rule: str) -> Finding:
    known = {c.name: c for c in source.columns}
    for pattern, explain in ((_REQUIRED, _required), (_TYPE, _typed), (_PATTERN, _patterned), (_ALLOWED, _allowed)):
        match = pattern.match(rule)
        if match and match["col"] in known:
            return explain(known[match["col"]], match)
    return Finding(None, *UNKNOWN_RULE)


def _required(column: Column, _match) -> Finding:
    return Finding(column, f"Thiếu giá trị bắt buộc ở cột «{column.header}»", f"Điền giá trị cho cột «{column.header}»")


def _typed(column: Column, match) -> Finding:
    return Finding(column, *TYPES.get(match["type"], UNKNOWN_RULE))


def _patterned(column: Column, match) -> Finding:
    reason, fix = PATTERNS.get(
        match["pattern"], ("Giá trị không đúng định dạng quy định", "Sửa theo định dạng trong hợp đồng dữ liệu")
    )
    return Finding(column, reason, fix)


def _allowed(column: Column, _match) -> Finding:
    choices = ", ".join(f"«{v}»" for v in column.allowed or ())
    return Finding(column, "Giá trị không nằm trong danh mục cho phép", f"Chọn một trong: {choices}")


def file_finding(source: Source, error: str) -> Finding:
    """Why a whole file was not read (the parser's message, masked, kept as the technical detail)."""
    missing = _MISSING_COLUMNS.search(error)
    if missing:
        headers = ", ".join(f"«{h}»" for h in re.findall(r"'([^']*)'", missing["cols"]))
        return Finding(
            None,
            f"Tệp thiếu cột bắt buộc: {headers}",
            "Thêm các cột này vào dòng tiêu đề, viết đúng tên như mẫu, rồi gửi lại tệp",
        )
    unreadable = _CANNOT_READ.search(error)
    detail = mask_text(unreadable["detail"] if unreadable else error)
    return Finding(
        None,
        f"Không đọc được tệp dưới dạng {source.format.upper()} (chi tiết kỹ thuật: {detail})",
        f"Xuất lại tệp đúng định dạng {source.format.upper()}, kiểm tra tệp không bị cắt ngang, rồi gửi lại",
    )

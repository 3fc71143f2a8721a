"""Values shown outside the restricted tier (check samples, validation results, Data Docs, log lines, error messages):
a personal one is replaced by its mask and, when TN_PSEUDONYM_KEY is set, its keyed pseudonym; the raw value stays in
bronze, silver and the quarantine only.

A value is personal when it sits in a `pii: true` column of a source contract (`contract_pii_columns`) or when the
PII scan's own rules recognise it (`sharing/pii_scan.py`: a CCCD-shaped 12-digit run, a mobile or landline number).
"""

from __future__ import annotations

import re

from sharing.pii_scan import CCCD_RE, PHONE_RE, contract_pii_columns, mask
from sharing.pseudonym import pseudonym

CCCD = re.compile(CCCD_RE)
PHONE = re.compile(PHONE_RE)
TWELVE_DIGITS = re.compile(r"[0-9]{12}")
NOT_VALUES = {"unexpected_index_column_names"}  # names of columns in GX's result, not values


def looks_personal(text: str) -> bool:
    return bool(CCCD.search(text) or PHONE.search(text))


def redacted(text: str, key: bytes | None) -> str:
    """`099*********` (the first three characters say e.g. which province code failed), plus `#<pseudonym>` with a
    key: the same person's pseudonym as in the shared file for a CCCD (domain `cccd`), to find the row again."""
    if key is None:
        return mask(text)
    domain = "cccd" if TWELVE_DIGITS.fullmatch(text) else "personal"
    return f"{mask(text)}#{pseudonym(text, domain, key)}"


def redact(value: object, *, personal: bool = False, key: bytes | None = None) -> object:
    """`value` as it may be shown: redacted when `personal` or when it looks personal, else unchanged."""
    if isinstance(value, str) and (personal or looks_personal(value)):
        return redacted(value, key)
    return value


def redact_tree(node: object, *, personal: bool = False, key: bytes | None = None) -> object:
    """A copy of a result (dicts, lists, strings) with every personal string redacted: all of them under a `pii`
    column's key or when `personal`, the ones that look personal elsewhere. Lineage fields (`_source_file`,
    `_row_number`) stay readable: they say where the raw value is."""
    if isinstance(node, dict):
        return {
            k: node[k]
            if str(k).startswith("_") or k in NOT_VALUES
            else redact_tree(node[k], personal=personal or k in contract_pii_columns(), key=key)
            for k in node
        }
    if isinstance(node, list | tuple):
        return [redact_tree(v, personal=personal, key=key) for v in node]
    return redact(node, personal=personal, key=key)

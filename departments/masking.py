"""Masking personal values before they leave the restricted tier: a receipt shows enough of a value for the
department to find it in its own file (the last 3 characters and its length), never the value."""

from __future__ import annotations

import re

KEEP = 3
# Nine or more digits, optionally grouped or with +84: CCCDs, phone numbers and anything shaped like them.
IDENTIFIER_SHAPED = re.compile(r"\+?\d(?:[ .-]?\d){8,}")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def mask(value: str | None) -> str:
    """'012345678901' → '*********901'; values of 3 characters or fewer are masked whole."""
    if not value:
        return ""
    return "*" * len(value) if len(value) <= KEEP else "*" * (len(value) - KEEP) + value[-KEEP:]


def shows_identifier(value: str | None) -> bool:
    return bool(value) and IDENTIFIER_SHAPED.search(value) is not None


def mask_value(value: str | None, personal: bool) -> str:
    """A cell for a receipt: masked when its column is personal (`pii: true`) or it looks like a CCCD/phone."""
    if value is None:
        return ""
    return mask(value) if personal or shows_identifier(value) else value


def mask_text(text: str) -> str:
    """Free text (a parser's message): quoted snippets of the file and identifier-shaped runs masked."""
    text = QUOTED.sub("'…'", text)
    return IDENTIFIER_SHAPED.sub(lambda m: mask(m.group(0)), text)

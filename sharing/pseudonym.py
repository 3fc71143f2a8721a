"""Keyed pseudonyms (HMAC-SHA256) computed inside DuckDB, and phone masking.

HMAC(K, m) = SHA256((K ⊕ opad) ‖ SHA256((K ⊕ ipad) ‖ m)) is written with DuckDB's own `sha256`, so pseudonyms are
computed in bulk, multi-threaded, without Python per row (bench/pseudonymise_hmac.py measures it against a
Python UDF over Arrow). The key never appears in SQL text: the two pads are bound as session variables.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import duckdb

KEY_VARIABLE = "TN_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 32
PSEUDONYM_HEX_CHARS = 32  # 128 bits: no collisions in practice at province scale, half the storage of 256


class PseudonymKeyError(RuntimeError):
    pass


def key_from_env() -> bytes:
    """The pseudonymisation key, or a clear refusal: shared outputs are never built with a missing or weak key."""
    value = os.environ.get(KEY_VARIABLE, "")
    if not value:
        raise PseudonymKeyError(
            f"{KEY_VARIABLE} is not set: refusing to build shared outputs without a pseudonymisation key. Set it to "
            f"a secret of at least {MIN_KEY_LENGTH} random characters, kept outside the repository (e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), the same on every run so pseudonyms "
            "stay stable."
        )
    if len(value) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(
            f"{KEY_VARIABLE} is too short ({len(value)} characters): use at least {MIN_KEY_LENGTH} random characters."
        )
    return value.encode("utf-8")


def key_or_none() -> bytes | None:
    """The key when one is properly set, else None: for redacting samples, which are masked without a key."""
    try:
        return key_from_env()
    except PseudonymKeyError:
        return None


def _pads(key: bytes) -> tuple[bytes, bytes]:
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def bind_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Bind the HMAC pads as session variables of `con` (they live in memory, never in a database file)."""
    inner, outer = _pads(key)
    con.execute("set variable tn_hmac_ipad = $1", [inner])
    con.execute("set variable tn_hmac_opad = $1", [outer])


def pseudonym_sql(column_sql: str, domain: str) -> str:
    """SQL for the pseudonym of a column (null stays null); needs `bind_key` on the connection."""
    message = f"encode('{domain}:' || {column_sql}::varchar)"
    return (
        f"left(sha256(getvariable('tn_hmac_opad') || unhex(sha256(getvariable('tn_hmac_ipad') || {message}))), "
        f"{PSEUDONYM_HEX_CHARS})"
    )


def pseudonym(value: str, domain: str, key: bytes) -> str:
    """The same pseudonym in Python (reference for tests and for looking up one person on request)."""
    return hmac.new(key, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


def mask_phone_sql(column_sql: str) -> str:
    """0981234567 → 098*****67: the network prefix and the last two digits; anything shorter is fully masked."""
    digits = f"regexp_replace({column_sql}::varchar, '[^0-9]', '', 'g')"
    return (
        f"case when {column_sql} is null then null when length({digits}) >= 9 "
        f"then left({digits}, 3) || repeat('*', length({digits}) - 5) || right({digits}, 2) "
        f"else repeat('*', length({column_sql}::varchar)) end"
    )

"""API keys: issued once, stored only as SHA-256 hashes (the key is 256 random bits, so a hash cannot be reversed by
trying keys), revoked by id. The keys file is rewritten whole and renamed into place, the service re-reads it.

    tnk_<key id: 12 hex>_<secret: 43 base64url characters>    what a consumer sends (X-API-Key or Bearer)
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.watched import WatchedFile

KEY_FORMAT = re.compile(r"^tnk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    consumer: str
    sha256: str
    issued_at: str
    revoked_at: str | None = None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def read_keys(path: Path) -> dict[str, StoredKey]:
    return {k["key_id"]: StoredKey(**k) for k in json.loads(path.read_text(encoding="utf-8"))["keys"]}


class KeyStore:
    """The service's read side: which consumer a presented key belongs to, if it is valid and not revoked."""

    def __init__(self, path: Path):
        self._file = WatchedFile(path, read_keys, dict)

    def consumer_of(self, presented: str) -> tuple[str, str] | None:
        """(consumer, key id) for a valid key, None otherwise (malformed, unknown, wrong secret, revoked)."""
        match = KEY_FORMAT.match(presented)
        stored = self._file.get().get(match.group(1)) if match else None
        if stored is None or stored.revoked_at or not hmac.compare_digest(stored.sha256, _digest(presented)):
            return None
        return stored.consumer, stored.key_id


@contextmanager
def _editing(path: Path):
    """The keys (empty if none yet) for one CLI change, under an exclusive lock; written back atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys = read_keys(path) if path.exists() else {}
        yield keys
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"keys": [asdict(k) for k in keys.values()]}, out, indent=2)
        os.replace(tmp, path)


def issue(path: Path, consumer: str) -> tuple[str, str]:
    """A new key for `consumer`: (key id, the key). The key is shown once; only its hash is kept."""
    with _editing(path) as keys:
        key_id = secrets.token_hex(6)
        while key_id in keys:
            key_id = secrets.token_hex(6)
        key = f"tnk_{key_id}_{secrets.token_urlsafe(32)}"
        keys[key_id] = StoredKey(key_id, consumer, _digest(key), datetime.now(UTC).isoformat(timespec="seconds"))
    return key_id, key


def revoke(path: Path, key_id: str) -> StoredKey:
    """Mark `key_id` revoked (kept, so the ledger's key ids stay explained); KeyError if there is no such key."""
    with _editing(path) as keys:
        stored = keys[key_id]
        if not stored.revoked_at:
            keys[key_id] = stored = StoredKey(**{**asdict(stored), "revoked_at": datetime.now(UTC).isoformat()})
    return stored


def listed(path: Path) -> list[StoredKey]:
    return list(read_keys(path).values()) if path.exists() else []

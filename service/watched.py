"""A file read again whenever it changes, so grants, keys and the open-data catalog apply without a restart."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class WatchedFile(Generic[T]):
    """`get()` returns `load(path)`, loaded again when the file's inode, mtime or size changed (a rename over it, as
    the CLI and the exports do, always changes the inode); `missing` when there is no file. A file that does not
    load (a hand edit half saved) keeps the last good value and is tried again on the next call."""

    def __init__(self, path: Path, load: Callable[[Path], T], missing: Callable[[], T]):
        self.path = path
        self._load = load
        self._missing = missing
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._value: T | None = None

    def get(self) -> T:
        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if self._value is None or stamp != self._stamp:
                try:
                    self._value = self._load(self.path) if stamp else self._missing()
                except Exception as error:
                    if self._value is None:
                        raise
                    log.error("%s not reloaded, keeping the last good version: %s", self.path, error)
                    return self._value
                self._stamp = stamp
            return self._value

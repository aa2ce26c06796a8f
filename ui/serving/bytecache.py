"""A process-wide cache bounded in bytes (RNNLAB_CACHE_MB), not only in entries: six large links once pinned 600 MB.

st.cache_data bounds entries; a trace at T=2000, H=1024 holds hundreds of MB and a small one
a few kB, so a count says nothing about memory. ByteLRU counts the numpy arrays' nbytes (and
strings' lengths) of every value and evicts the least recently used entries beyond the bound.
Sessions asking for the same key at once share one computation: the first computes, the
others wait for its result (ten visitors of one shared lesson link cost one pass).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections import OrderedDict

import numpy as np

from engine.cancel import Cancelled

DEFAULT_MB = 512


def cache_bytes(environ=None) -> int:
    """RNNLAB_CACHE_MB in bytes (a missing or malformed value: DEFAULT_MB; 0 keeps nothing)."""
    environ = os.environ if environ is None else environ
    raw = str(environ.get("RNNLAB_CACHE_MB", "")).strip()
    return (int(raw) if raw.isdigit() else DEFAULT_MB) << 20


def deep_nbytes(value, _depth: int = 0) -> int:
    """Bytes a value holds: arrays by nbytes, containers and dataclasses by their contents."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (str, bytes)):
        return len(value)
    if _depth > 8:
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sum(deep_nbytes(k, _depth + 1) + deep_nbytes(v, _depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sys.getsizeof(value) + sum(deep_nbytes(v, _depth + 1) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(deep_nbytes(getattr(value, f.name), _depth + 1) for f in dataclasses.fields(value))
    return sys.getsizeof(value)


class _Pending:
    """A computation in flight: the others asking for its key wait on `done`."""

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class ByteLRU:
    """Least recently used entries go first once the values' bytes exceed max_bytes; an entry larger than that is not kept."""

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self.total = 0
        self._items: OrderedDict = OrderedDict()  # key -> (value, nbytes)
        self._pending: dict = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def get_or_compute(self, key, compute):
        """The cached value for key, else compute() once (concurrent callers of the same key wait for it) and keep it.

        A computation cancelled for its own caller (engine.cancel.Cancelled: that session ended) is not
        the waiters' failure: the first of them computes it again, the others wait for that one.
        """
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key][0]
                pending = self._pending.get(key)
                owner = pending is None
                if owner:
                    pending = self._pending[key] = _Pending()
            if owner:
                break
            pending.done.wait()
            if isinstance(pending.error, Cancelled):  # its owner's session ended: this caller still wants it, so it computes
                continue
            if pending.error is not None:
                raise pending.error
            return pending.value
        try:
            pending.value = compute()
        except BaseException as err:
            pending.error = err
            raise
        finally:
            with self._lock:
                del self._pending[key]
                if pending.error is None:
                    self._put(key, pending.value)
            pending.done.set()
        return pending.value

    def _put(self, key, value) -> None:
        size = deep_nbytes(value)
        if size > self.max_bytes:
            return
        if key in self._items:
            self.total -= self._items.pop(key)[1]
        self._items[key] = (value, size)
        self.total += size
        while self.total > self.max_bytes:
            _, (_, old) = self._items.popitem(last=False)
            self.total -= old

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.total = 0

"""glibc's allocator, told to give memory back: fewer arenas, and a trim after heavy work.

A pass at T=200, H=128, B=64 in float64 allocates and frees hundreds of MB in large blocks.
glibc keeps freed memory in per-thread arenas (up to 8 per core) and raises its mmap threshold
after each large free, so later large blocks land in the arenas and stay there: a server that
served 8 such tabs stayed at 2 GB after they closed (issue 22). Two arenas (MALLOC_ARENA_MAX=2,
or limit_arenas before threads start) and malloc_trim(0) after heavy jobs hand it back.
Elsewhere (macOS, musl) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h
TRIM_AFTER_BYTES = 16 << 20  # a job estimated to hold at least this much is followed by a trim


@functools.cache
def _libc():
    """glibc with malloc_trim and mallopt, loaded when first asked; None elsewhere (macOS, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit_arenas(n: int = 2) -> bool:
    """At most n malloc arenas, unless MALLOC_ARENA_MAX already says; True when glibc took it. Call before threads start."""
    if _libc() is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(_libc().mallopt(M_ARENA_MAX, int(n)))


def trim() -> bool:
    """Return the free memory at the top of every arena to the OS (glibc malloc_trim(0)); True when some was released."""
    return bool(_libc().malloc_trim(0)) if _libc() is not None else False

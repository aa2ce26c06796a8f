"""Where the engine computes: device choice, and a malloc setting that keeps each pass's buffers warm."""

from __future__ import annotations

import ctypes
import functools
import sys

import torch


def resolve_device(device: str) -> str:
    """'auto' means CUDA when present, else CPU; asking for CUDA without one is an error."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was asked for but no CUDA device is available (use 'auto' or 'cpu')")
    return device


@functools.cache
def keep_freed_memory(mmap_mib: int = 32, trim_mib: int = 256) -> bool:
    """Let glibc reuse freed memory for the next pass instead of returning it to the system.

    A pass allocates tens of MB of (T, B, 4H) arrays and frees them at the end. By default
    glibc serves each with a fresh mmap and unmaps it on free, so every pass page-faults
    its whole working set again: ~2400 faults and ~10 % of an LSTM pass at T=200, H=128.
    Blocks below `mmap_mib` now come from the heap, and up to `trim_mib` of freed heap is
    kept. Linux/glibc only; elsewhere (or if mallopt is missing) nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_mib << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, trim_mib << 20))
    except (OSError, AttributeError):
        return False

"""Refuse work that will not fit, before allocating: engine/cost.py's byte estimate against the memory free right now.

Without this, `python -m engine run --seq-len 2000 --hidden-size 1024 --batch-size 512` (about
38 GB) ran for two minutes until the kernel killed it at 24 GB resident (issue 22). run(),
train() and phase() call `check` first and raise TooBig, a MemoryError that names the estimate;
the command line turns it into exit code 2 and one line.

"Free" is the smallest of what the machine can give without swapping (/proc/meminfo
MemAvailable) and what the process's container may still take (cgroup v2 memory.max minus
memory.current, or v1's limit minus usage); where neither is known nothing is refused. On a
CUDA device the GPU's free memory counts instead.
"""

from __future__ import annotations

import math
from pathlib import Path

MEMINFO = Path("/proc/meminfo")
CGROUP_V2 = Path("/sys/fs/cgroup")
CGROUP_V1 = Path("/sys/fs/cgroup/memory")


class TooBig(MemoryError):
    """The estimated bytes of the work exceed the memory available; raised before anything is allocated."""

    def __init__(self, needed: float, available: float, what: str = "this setting"):
        self.needed, self.available = float(needed), float(available)
        super().__init__(
            f"{what} needs about {_gb(needed)} of memory and {_gb(available)} is available; "
            "reduce seq_len, hidden_size or batch_size (--seq-len, --hidden-size, --batch-size)"
        )


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def _read_int(path: Path) -> float | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return float(text) if text.isdigit() else None  # "max" (no limit) and odd values: unknown


def meminfo_available(path: Path = MEMINFO) -> float:
    """MemAvailable from /proc/meminfo in bytes (infinite where there is none)."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return math.inf


def cgroup_available(v2: Path = CGROUP_V2, v1: Path = CGROUP_V1) -> float:
    """What the container may still allocate: its limit minus its usage (infinite without a limit)."""
    for limit, usage in ((v2 / "memory.max", v2 / "memory.current"), (v1 / "memory.limit_in_bytes", v1 / "memory.usage_in_bytes")):
        cap, used = _read_int(limit), _read_int(usage)
        if cap is not None and used is not None and cap < 2**60:  # v1 writes "no limit" as a huge number
            return max(cap - used, 0.0)
    return math.inf


def available_bytes(device: str = "cpu") -> float:
    """Bytes this process can allocate now without swapping or being killed; on "cuda", the GPU's free memory."""
    if device == "cuda":
        import torch

        return float(torch.cuda.mem_get_info()[0])
    return min(meminfo_available(), cgroup_available())


def check(needed: float, device: str = "cpu", what: str = "this setting") -> None:
    """Raise TooBig when `needed` bytes exceed the memory available now."""
    available = available_bytes(device)
    if needed > available:
        raise TooBig(needed, available, what)


def check_config(cfg, nbytes: float, what: str = "this setting") -> None:
    """check() on the device cfg computes on ('auto' resolved as the engine resolves it)."""
    from .backend import resolve_device

    check(nbytes, resolve_device(cfg.device), what)

"""Array backends: the hand-written BPTT runs on numpy on the CPU and on torch on CUDA.

Per-operation overhead dominates at the sizes the app uses (~1 us a numpy op, ~5 us a
small torch op), so the CPU path uses numpy; CUDA gets the same code on torch tensors.
Only the handful of functions whose names differ between the two libraries live here;
operators (@, *, +, slicing, .sum(axis)) are shared.
"""

from __future__ import annotations

import ctypes
import functools
import sys

import numpy as np
import torch

TORCH_ELEMENTWISE = 4096  # from this many elements, torch's transcendental functions win despite their call overhead
MM_TORCH_MACS = 100_000  # above this many multiply-adds, torch's GEMM beats numpy's here (~2.5x at 1e6)


class NumpyOps:
    """numpy on the CPU (the fast path for small per-step matrices)."""

    name = "numpy"

    def mm(self, a, b, out=None):
        """a (..., K) @ b (K, N) as one GEMM, into out if given; large products go through torch on zero-copy views."""
        K, N = b.shape
        a2 = a if a.ndim == 2 else a.reshape(-1, K)
        M = a2.shape[0]
        o2 = None
        if out is not None:
            o2 = out.view()
            o2.shape = (M, N)  # raises rather than silently writing into a copy
        if M * K * N >= MM_TORCH_MACS and min(M, K, N) >= 16 and a2.dtype == b.dtype:
            if o2 is not None:
                torch.mm(torch.from_numpy(a2), self._weight_tensor(b), out=torch.from_numpy(o2))
                return out
            res = torch.mm(torch.from_numpy(a2), self._weight_tensor(b)).numpy()
        else:
            res = np.matmul(a2, b, out=o2)
        return res if a.ndim == 2 else res.reshape(a.shape[:-1] + (N,))

    def _weight_tensor(self, b) -> torch.Tensor:
        """torch view of b, remembered for the next call: a BPTT loop multiplies by the same weights every step."""
        if self._last_weight[0] is not b:
            self._last_weight = (b, torch.from_numpy(b))
        return self._last_weight[1]

    def multiply(self, a, b, out=None):
        return np.multiply(a, b, out=out)

    def __init__(self, dtype: str):
        self.dtype = np.dtype(dtype)
        self._last_weight = (None, None)

    def asarray(self, a):
        if isinstance(a, torch.Tensor):
            return a.detach().cpu().numpy().astype(self.dtype, copy=False)
        return np.asarray(a, dtype=self.dtype)

    def asindex(self, a):
        return np.asarray(a, dtype=np.int64)

    def tensor(self, a) -> torch.Tensor:
        """A torch view of an array (shared memory): for loops of in-place torch kernels."""
        return torch.from_numpy(a)

    def from_tensor(self, t: torch.Tensor):
        """The array behind a torch tensor made by the torch kernels (shared memory)."""
        return t.numpy()

    def to_numpy(self, a) -> np.ndarray:
        return np.asarray(a)

    def zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)

    def empty(self, shape):
        return np.empty(shape, dtype=self.dtype)

    def tanh(self, a):
        return np.tanh(a)

    def sigmoid(self, a):
        if a.size >= TORCH_ELEMENTWISE:  # torch's vectorised sigmoid: ~2x numpy's exp here
            return torch.sigmoid(torch.from_numpy(a)).numpy()
        # exp(-a) may overflow to inf for very negative a, giving exactly 0 (callers silence the warning).
        return 1.0 / (1.0 + np.exp(-a))

    def relu(self, a):
        return np.maximum(a, 0)

    def exp(self, a):
        return np.exp(a)

    def log(self, a):
        return np.log(a)

    def amax(self, a, axis):
        return a.max(axis=axis, keepdims=True)

    def cat(self, parts, out=None):
        return np.concatenate(parts, axis=-1, out=out)

    def gate_product(self, shared, last, fac, out=None):
        """cat([shared] * (G - 1) + [last]) * fac for G gate blocks, as two broadcast products into one array (or out)."""
        return _gate_product(np, shared, last, fac, out)

    def clip(self, a, lo, hi):
        return np.clip(a, lo, hi)

    def take_rows(self, a, idx):
        return a[idx]


class TorchOps:
    """torch tensors on any device (used for CUDA)."""

    name = "torch"

    def __init__(self, dtype: str, device: str):
        self.dtype = getattr(torch, dtype)
        self.device = torch.device(device)

    def asarray(self, a):
        return torch.as_tensor(a, dtype=self.dtype, device=self.device)

    def asindex(self, a):
        return torch.as_tensor(a, dtype=torch.int64, device=self.device)

    def tensor(self, a) -> torch.Tensor:
        return a

    def from_tensor(self, t: torch.Tensor):
        return t

    def mm(self, a, b, out=None):
        return torch.matmul(a, b, out=out)

    def multiply(self, a, b, out=None):
        return torch.mul(a, b, out=out)

    def to_numpy(self, a) -> np.ndarray:
        return a.detach().cpu().numpy()

    def zeros(self, shape):
        return torch.zeros(shape, dtype=self.dtype, device=self.device)

    def empty(self, shape):
        return torch.empty(shape, dtype=self.dtype, device=self.device)

    def tanh(self, a):
        return torch.tanh(a)

    def sigmoid(self, a):
        return torch.sigmoid(a)

    def relu(self, a):
        return torch.relu(a)

    def exp(self, a):
        return torch.exp(a)

    def log(self, a):
        return torch.log(a)

    def amax(self, a, axis):
        return a.amax(dim=axis, keepdim=True)

    def cat(self, parts, out=None):
        return torch.cat(parts, dim=-1, out=out)

    def gate_product(self, shared, last, fac, out=None):
        return _gate_product(torch, shared, last, fac, out)

    def clip(self, a, lo, hi):
        return torch.clamp(a, lo, hi)

    def take_rows(self, a, idx):
        return a[idx]


def _gate_product(lib, shared, last, fac, out=None):
    """shared * each of the first G - 1 blocks of fac, last * the last one (the batched connectivity pass is memory-bound)."""
    n = last.shape[-1]
    lead = tuple(last.shape[:-1])  # the gradient carries all leading axes (R, B) or (B,); fac may lack R
    f = fac.reshape(tuple(fac.shape[:-1]) + (-1, n))
    if out is None:
        out = lib.empty(lead + (f.shape[-2] * n,), dtype=fac.dtype, **({} if lib is np else {"device": fac.device}))
    o = out.reshape(lead + (f.shape[-2], n))  # a view: out is contiguous
    lib.multiply(shared[..., None, :], f[..., :-1, :], out=o[..., :-1, :])
    lib.multiply(last, f[..., -1, :], out=o[..., -1, :])
    return out


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


def make_ops(dtype: str, device: str, backend: str = "auto"):
    """numpy on the CPU unless the torch backend is asked for (tests run both)."""
    keep_freed_memory()
    if backend == "torch" or (backend == "auto" and device != "cpu"):
        return TorchOps(dtype, device)
    if device != "cpu":
        raise ValueError(f"backend: numpy runs on the CPU only, not on {device!r}")
    return NumpyOps(dtype)

"""Slider ranges in one place, tightened by environment variables on a hosted demo.

Hosted-demo caps (each an integer; a missing, malformed or too large value is ignored):

- ``RNNLAB_MAX_SEQ_LEN``: longest sequence T offered (engine limit 2000)
- ``RNNLAB_MAX_HIDDEN``: most hidden units H offered (engine limit 1024)
- ``RNNLAB_MAX_BATCH``: largest batch B offered (engine limit 512)
- ``RNNLAB_MAX_STEPS``: most training steps per Run (default and limit 5000)

Example: ``RNNLAB_MAX_SEQ_LEN=500 RNNLAB_MAX_HIDDEN=128 streamlit run app.py``. Values
arriving through a shared link are clamped to these caps with a warning.
"""

from __future__ import annotations

import os

from engine.config import field_info

CAP_ENV = {
    "seq_len": "RNNLAB_MAX_SEQ_LEN",
    "hidden_size": "RNNLAB_MAX_HIDDEN",
    "batch_size": "RNNLAB_MAX_BATCH",
    "steps": "RNNLAB_MAX_STEPS",
}
MAX_STEPS = 5000
DEFAULT_STEPS = 200
DEFAULT_EVERY = 5
DEFAULT_K = 10  # truncation horizon offered when TBPTT is first switched on


def caps(environ=None) -> dict[str, int]:
    """Upper limits for seq_len, hidden_size, batch_size and steps: engine limits, tightened by the environment."""
    environ = os.environ if environ is None else environ
    out = {name: field_info(name)["hi"] for name in ("seq_len", "hidden_size", "batch_size")}
    out["steps"] = MAX_STEPS
    for name, var in CAP_ENV.items():
        raw = environ.get(var, "").strip()
        if raw.isdigit() and 1 <= int(raw) <= out[name]:
            out[name] = int(raw)
    return out


def ranges(values: dict, cap: dict) -> dict[str, tuple]:
    """(lo, hi) of every numeric widget, given the current widget values (k <= T, k2 >= k1)."""
    T = min(int(values.get("seq_len", 1)), cap["seq_len"])
    lo_T = 2 if values.get("task") == "adding" else 1
    k1 = min(max(int(values.get("k1", 1)), 1), max(T, 1))
    return {
        "seq_len": (lo_T, max(cap["seq_len"], lo_T)),
        "hidden_size": (1, cap["hidden_size"]),
        "batch_size": (1, cap["batch_size"]),
        "recurrent_scale": (0.05, 6.0),
        "forget_bias": (-5.0, 5.0),
        "truncation": (1, max(T, 1)),
        "k1": (1, max(T, 1)),
        "k2": (k1, max(T, 1)),
        "clip_threshold": (0.001, 1e6),
        "lr": (1e-5, 10.0),
        "seed": (0, 2**31 - 1),
        "steps": (1, cap["steps"]),
        "every": (1, 100),
    }


def clamp(value, lo, hi):
    """value pulled into [lo, hi], keeping its type."""
    return type(value)(min(max(value, lo), hi))


def fit(values: dict, cap: dict) -> tuple[dict, list[str]]:
    """values clamped into the widget ranges (seq_len first, since k's range depends on it), and what moved."""
    out, moved = dict(values), []
    for name in ("seq_len", "k1", *ranges(values, cap)):
        if name not in out or isinstance(out[name], bool):
            continue
        lo, hi = ranges(out, cap)[name]
        new = clamp(out[name], lo, hi)
        if new != out[name]:
            moved.append(f"{name}={out[name]:g} is outside the offered range {lo:g}..{hi:g}; using {new:g}")
            out[name] = new
    return out, moved

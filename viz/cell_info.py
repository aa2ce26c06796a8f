"""What the cell declared about itself (Trace.cell_info, from engine Cell.describe()), read in one place.

viz never runs torch, so the cell's declarations reach it as plain values on the trace: a
gate's activation and role, the direct path that carries the gradient and its factor, and
whether the state is complex. Nothing here guesses a meaning from a gate's letter.
"""

from __future__ import annotations

import numpy as np

from .theme import gate_label


def _info(trace) -> dict:
    return getattr(trace, "cell_info", None) or {}


def gate_activation(trace, name: str) -> str | None:
    """The gate's declared activation ("sigmoid", "tanh"), or None where the trace declares none."""
    gate = _info(trace).get("gates", {}).get(name)
    return None if gate is None else gate["activation"]


def signed_gate(trace, name: str) -> bool:
    """A gate whose values live in -1..1: declared tanh."""
    return gate_activation(trace, name) == "tanh"


def gate_title(trace, name: str) -> str:
    """ "<role> <name>" as the cell declares it ("forget gate f"); a gate without a declaration keeps the theme's label."""
    gate = _info(trace).get("gates", {}).get(name)
    return gate_label(name) if gate is None else f"{gate['role']} {name}"


def direct_path(trace) -> dict | None:
    """The declared direct path {state, factor, complement}, or None (the vanilla RNN has none)."""
    return _info(trace).get("direct")


def path_gate(trace) -> str | None:
    """The gate that scales the direct path ("f", "z"), or None for a cell without one or with a per-unit factor."""
    path = direct_path(trace)
    return path["factor"] if path and path["factor"] in getattr(trace, "gates", {}) else None


def path_keep(trace) -> tuple[float, str] | None:
    """(mean factor of the direct path, its symbol: "f", "z" or "1 − f"), from the declared path's gate; None without one."""
    name = path_gate(trace)
    if name is None:
        return None
    values = np.asarray(trace.gates[name], dtype=np.float64)
    complement = direct_path(trace)["complement"]
    with np.errstate(all="ignore"):
        value = float(np.mean(1 - values if complement else values))
    return value, f"1 − {name}" if complement else name


def path_words(trace) -> tuple[str, str]:
    """(the direct path in words, what else the gradient flows through), from the declared path's state."""
    if direct_path(trace)["state"] == "c":
        return "the cell path cₜ₋₁ → cₜ", "h and the gates"
    candidates = [gate_title(trace, n) for n in getattr(trace, "gates", {}) if signed_gate(trace, n)]
    return "the direct path hₜ₋₁ → hₜ", " and ".join(f"the {c}" for c in candidates) or "the gates"


def recorded(trace) -> tuple[str, str]:
    """(words, symbol) of what trace.hidden holds: the cell's declared output map (the LRU's y), else the hidden state h."""
    out = _info(trace).get("output_map")
    return (out[0], out[1]) if out else (gate_label("h"), "h")

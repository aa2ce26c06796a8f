"""Widget ranges in one place: the Config and TrainingConfig field tables, tightened by environment variables on a hosted demo.

Hosted-demo caps (each an integer; a missing, malformed, zero or too large value is ignored):

- ``RNNLAB_MAX_SEQ_LEN``: longest sequence T offered (engine limit 2000)
- ``RNNLAB_MAX_HIDDEN``: most hidden units H offered (engine limit 1024)
- ``RNNLAB_MAX_BATCH``: largest batch B offered (engine limit 512)
- ``RNNLAB_MAX_STEPS``: most training steps per Run (TrainingConfig's limit 5000)

With ``RNNLAB_PUBLIC=1`` (ui/serving/admission.py) the caps start from PUBLIC_CAPS instead of the
engine limits, and the variables above can only tighten them further.

Example: ``RNNLAB_MAX_SEQ_LEN=500 RNNLAB_MAX_HIDDEN=128 streamlit run app.py``. Values
arriving through a shared link are clamped to these caps with a note. Ranges never depend
on another control's value (a slider whose bounds move under it is how values got lost):
combinations such as k <= T are settled by ui.page.rules, which says what it changed.
"""

from __future__ import annotations

import os

from engine.config import field_info

from .admission import public

CAP_ENV = {
    "seq_len": "RNNLAB_MAX_SEQ_LEN",
    "hidden_size": "RNNLAB_MAX_HIDDEN",
    "batch_size": "RNNLAB_MAX_BATCH",
    "steps": "RNNLAB_MAX_STEPS",
}
# A public page: a single pass stays under ~0.5 s and ~0.4 GB at the worst cell, init, task and dtype (engine/cost.py).
PUBLIC_CAPS = {"seq_len": 300, "hidden_size": 128, "batch_size": 64, "steps": 1000}
DEFAULT_K = 10  # truncation horizon offered when TBPTT is first switched on
# Smallest value a widget offers for a Config field that must be strictly positive (Config: lo < value).
POSITIVE_MIN = {"recurrent_scale": 0.05, "clip_threshold": 1e-6, "lr": 1e-6}


def caps(environ=None) -> dict[str, int]:
    """Upper limits for seq_len, hidden_size, batch_size and steps: engine (or public) limits, tightened by the environment."""
    environ = os.environ if environ is None else environ
    out = {name: field_info(name)["hi"] for name in CAP_ENV}  # steps: TrainingConfig's, the same table as the CLI's
    if public(environ):
        out.update(PUBLIC_CAPS)
    for name, var in CAP_ENV.items():
        raw = str(environ.get(var, "")).strip()
        if raw.isdigit() and 1 <= int(raw) <= out[name]:
            out[name] = int(raw)
    return out


def ranges(cap: dict) -> dict[str, tuple]:
    """(lo, hi) of every numeric widget: the Config field's range, within the host's caps. Never lo > hi."""
    out = {}
    for name in ("seq_len", "hidden_size", "batch_size", "recurrent_scale", "forget_bias", "clip_threshold", "lr", "seed"):
        info = field_info(name)
        lo = POSITIVE_MIN.get(name, info["lo"])
        out[name] = (lo, min(info["hi"], cap.get(name, info["hi"])))
    T = cap["seq_len"]
    out.update(truncation=(1, T), k1=(1, T), k2=(1, T), steps=(field_info("steps")["lo"], cap["steps"]))
    out["every"] = (field_info("every")["lo"], field_info("every")["hi"])
    return out


def defaults(cap: dict) -> dict:
    """Widget defaults: the Config defaults, pulled inside the caps (a host may cap T below the default 50)."""
    T = min(field_info("seq_len")["default"], cap["seq_len"])
    k = min(DEFAULT_K, T)
    return {
        "seq_len": T,
        "hidden_size": min(field_info("hidden_size")["default"], cap["hidden_size"]),
        "batch_size": min(field_info("batch_size")["default"], cap["batch_size"]),
        "truncation": k,
        "k1": k,
        "k2": k,
        "steps": min(field_info("steps")["default"], cap["steps"]),
        "every": field_info("every")["default"],
    }


def clamp(value, lo, hi):
    """value pulled into [lo, hi], keeping its type."""
    return type(value)(min(max(value, lo), hi))

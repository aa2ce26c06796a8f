"""The sidebar's values without the sidebar: defaults within the host's caps, the Config they describe, a lesson's settings.

Both the page (ui/page/controls.py) and the lessons' checks (ui/teaching/lessons.py: a claim is
measured on the Config the page would compute) need these, so they sit below both: the two
imported each other while they lived in controls.py. Nothing here calls Streamlit.
"""

from __future__ import annotations

from dataclasses import fields

from engine import Config, ConfigError
from engine.cells import CELLS
from engine.config import field_info
from ui.serving import limits

from . import links, rules

# Every Config field has a widget of the same name, except the device (chosen automatically); the page adds its own three.
WIDGETS = tuple(f.name for f in fields(Config) if f.name != "device") + ("bptt", "steps", "every")


def defaults(cap: dict) -> dict:
    """The value of every widget on a fresh page: Config's defaults within the host's caps."""
    out = {name: field_info(name)["default"] for name in WIDGETS if name not in ("bptt", "steps", "every")}
    out.update(bptt="full", **limits.defaults(cap))
    if cap["seq_len"] < 2:
        out["task"] = "first"  # the adding problem needs two steps
    return out


def read_config(v: dict) -> tuple[Config | None, str | None]:
    """The Config the widget values describe, or the error; fields that do not apply get their neutral value.

    Derived from the Config field table: every field is read from the widget of the same name,
    converted to the field's type; only what the chosen cell or BPTT mode does not use is replaced.
    """
    cell, mode = CELLS[v["cell"]], v["bptt"]
    neutral = {
        "activation": None if cell.uses_activation else "tanh",
        "forget_bias": None if cell.has_forget_bias else 0.0,
        "truncation": None if mode == "k" else 0,
        "k1": None if mode == "k1k2" else 0,
        "k2": None if mode == "k1k2" else 0,
        "device": "auto",
    }
    values = {}
    for f in fields(Config):
        if neutral.get(f.name) is not None:
            values[f.name] = neutral[f.name]
            continue
        kind = field_info(f.name)["type"]
        values[f.name] = int(v[f.name]) if kind in ("int", int) else float(v[f.name]) if kind in ("float", float) else v[f.name]
    try:
        return Config(**values), None
    except ConfigError as e:
        return None, f"Setting `{e.field}` refused: {links.escape(e.reason)}"


def resolve(settings: dict, cap: dict) -> tuple[dict, list[str]]:
    """(every widget value, notes): the defaults with these settings on top, clamped to the host's caps and settled."""
    values = {**defaults(cap), **settings}
    notes = []
    rng = limits.ranges(cap)
    for name, value in settings.items():
        if name in rng and not isinstance(value, str):
            lo, hi = rng[name]
            if value > hi:
                notes.append(f"This server allows {name} up to {hi}; the lesson asked for {value}, so its claim may not hold.")
            values[name] = limits.clamp(value, lo, hi)
    changes, more = rules.settle(values, cap)
    return {**values, **changes}, notes + more


def config_for(settings: dict, cap: dict | None = None) -> Config:
    """The Config the page computes once these settings are applied (the same path as the sidebar's)."""
    values, _ = resolve(settings, limits.caps() if cap is None else cap)
    config, error = read_config(values)
    if error:
        raise ValueError(error)
    return config

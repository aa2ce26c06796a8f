"""The sidebar's values without the sidebar: defaults within the host's caps, the Config they describe, a lesson's settings.

Both the page (ui/page/controls.py) and the lessons' checks (ui/teaching/lessons.py: a claim is
measured on the Config the page would compute) need these, so they sit below both: the two
imported each other while they lived in controls.py. Nothing here calls Streamlit.
"""

from __future__ import annotations

from engine import Config, ConfigError
from engine.config import field_info
from ui.serving import limits

from . import links, rules

# Every Config and TrainingConfig field has a widget of the same name, except the device (chosen automatically), and bptt.
WIDGETS = links.FIELDS + ("bptt",)


def defaults(cap: dict) -> dict:
    """The value of every widget on a fresh page: Config's defaults within the host's caps."""
    out = {name: field_info(name)["default"] for name in WIDGETS if name != "bptt"}
    out.update(bptt="full", **limits.defaults(cap))
    changes, _ = rules.settle(out, cap)  # a host that caps T at 1 offers no adding problem: Config says so, the task gives way
    return {**out, **changes}


def read_config(v: dict) -> tuple[Config | None, str | None]:
    """The Config the widget values describe (Config's own parser, ui.page.rules.config_of), or the error naming the field."""
    try:
        return rules.config_of(v), None
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

"""Compare: the settings on screen against the same settings with a field or two changed, on the same chart.

A compare is a link too: the second configuration's differing fields carry the prefix `vs.`
(`?cell=rnn&seq_len=80&vs.cell=lstm`). The overrides live in the session state under
"compare" (field -> value); the URL is written here, by name, like the choice widgets.
"""

from __future__ import annotations

from dataclasses import fields

import streamlit as st

from engine import Config, ConfigError
from engine.cells import CELLS
from engine.config import field_info, parse_value

from . import links

PREFIX = "vs."
FIELDS = tuple(f.name for f in fields(Config) if f.name not in ("device", "k1", "k2"))
KEY = "compare"
OPEN_KEY = "compare_open"  # the state of the "Compare with…" row (open or folded)


def parse(query: dict[str, list[str]]) -> tuple[dict, list[str]]:
    """(overrides, errors) from the link's `vs.<field>` parameters; a refused one is named, escaped."""
    known = {f.name: f for f in fields(Config)}
    overrides, errors = {}, []
    for key, raws in query.items():
        if not key.startswith(PREFIX):
            continue
        name, raw = key[len(PREFIX) :], (raws[-1] if raws else "")
        if name not in FIELDS:
            errors.append(f"Link parameter {links.quote(key)} compares a field this page cannot: ignored.")
            continue
        probe = {"forget_bias": {"cell": "lstm"}, "truncation": {"seq_len": 2000}}.get(name, {})  # a field alone, not its combination
        try:
            value = parse_value(known[name], raw)
            Config(**probe, **{name: value})
        except ConfigError as e:
            errors.append(f"Link parameter `{PREFIX}{name}` refused: {links.escape(e.reason)} (got {links.quote(raw)}).")
            continue
        overrides[name] = value
    return overrides, errors


def other_config(cfg: Config, overrides: dict) -> tuple[Config | None, str | None]:
    """cfg with the overrides, made consistent (a cell without φ gets tanh, k no longer than T), or the error."""
    values = cfg.to_dict() | overrides
    cell = CELLS[values["cell"]]
    if not cell.uses_activation:
        values["activation"] = "tanh"
    if not cell.has_forget_bias:
        values["forget_bias"] = 0.0
    for name in ("truncation", "k1", "k2"):
        values[name] = min(values[name], values["seq_len"])
    try:
        return Config(**values), None
    except ConfigError as e:
        return None, f"The compared setting `{e.field}` is refused: {links.escape(e.reason)}"


def label(cfg: Config, other: Config) -> str:
    """'vs. cell=lstm, forget_bias=1.0': the fields in which the compared configuration differs."""
    a, b = cfg.to_dict(), other.to_dict()
    return "vs. " + ", ".join(f"{k}={b[k]}" for k in a if a[k] != b[k] and k != "device")


# The forget bias of the "→ LSTM" preset. At 0 an untrained LSTM keeps f ≈ 0.5 and loses its gradient faster than the
# RNN; at 1 (f ≈ 0.7) it still did on 37 of 50 seeds of the default page; at 2 (f ≈ 0.88) it keeps more on all 50.
LSTM_BIAS = 2.0


def presets(cfg: Config) -> list[tuple[str, dict]]:
    """One-click comparisons that teach: each changes one idea (the cell, the forget gate, clipping, the scale).

    The LSTM comes with its forget gate opened by a bias (Gers et al. 2000; Jozefowicz et al. 2015):
    with bias 0 its forget gate sits near 0.5 and the comparison would show the gate path closed,
    the opposite of what an LSTM is for. The chart says which f the LSTM kept
    (viz.gradients.compared_words).
    """
    out = []
    if cfg.cell == "lstm":
        bias = LSTM_BIAS if cfg.forget_bias != LSTM_BIAS else 0.0
        out.append((f"forget bias {cfg.forget_bias:g} → {bias:g}", {"forget_bias": bias}))
    else:
        out.append((f"{CELLS[cfg.cell].label} → LSTM (forget bias {LSTM_BIAS:g})", {"cell": "lstm", "forget_bias": LSTM_BIAS}))
    if cfg.cell != "lru":
        out.append((f"{CELLS[cfg.cell].label} → LRU", {"cell": "lru"}))
    out.append(("clipping off" if cfg.clip != "none" else "clip by norm θ = 1", {"clip": "none" if cfg.clip != "none" else "norm"}))
    for delta in (-0.1, 0.1):
        scale = round(cfg.recurrent_scale + delta, 10)
        if field_info("recurrent_scale")["lo"] < scale <= field_info("recurrent_scale")["hi"]:
            out.append((f"scale {cfg.recurrent_scale:g} → {scale:g}", {"recurrent_scale": scale}))
    return out


def is_active(change: dict, overrides: dict) -> bool:
    """Whether this preset is the comparison on screen (the same fields, the same values)."""
    return bool(change) and change == overrides


def set_overrides(overrides: dict) -> None:
    st.session_state[KEY] = dict(overrides)


def write_url(overrides: dict) -> None:
    """The compare in the URL as vs.<field>=<value>; old vs. parameters removed."""
    for key in [k for k in st.query_params if k.startswith(PREFIX)]:
        if key[len(PREFIX) :] not in overrides:
            del st.query_params[key]
    for name, value in overrides.items():
        text = repr(value) if isinstance(value, float) else str(value)
        if st.query_params.get(PREFIX + name) != text:
            st.query_params[PREFIX + name] = text


def panel(cfg: Config) -> tuple[Config | None, str | None]:
    """The 'Compare with…' row; (the compared Config, its label) or (None, None) when nothing is compared."""
    overrides = st.session_state.get(KEY, {})
    # The buttons are drawn only while the row is open: a new tab's browser has that much less to build first.
    row = st.expander("Compare with… (the same settings, one idea changed)", expanded=bool(overrides), key=OPEN_KEY, on_change="rerun")
    if row.open:
        with row:
            cols = st.columns(len(presets(cfg)) + 1)
            for col, (text, change) in zip(cols, presets(cfg)):
                on = is_active(change, overrides)
                col.button(
                    ("✓ " if on else "") + text,
                    key=f"compare_{text}",
                    on_click=set_overrides,
                    args=(change,),
                    type="primary" if on else "secondary",
                    help="The comparison shown now." if on else None,
                    use_container_width=True,
                )
            cols[-1].button("No comparison", key="compare_clear", on_click=set_overrides, args=({},), disabled=not overrides)
            st.caption(
                "A compare is a link too: the compared fields carry the prefix vs. in the URL, e.g. ?cell=rnn&vs.cell=lstm; "
                "edit them there to compare any field."
            )
    write_url(overrides)
    if not overrides:
        return None, None
    other, error = other_config(cfg, overrides)
    if other is None:
        st.error(error)
        return None, None
    if other == cfg:
        st.info("The compared settings equal the ones on screen: nothing to compare. Change a setting or pick another comparison.")
        return None, None
    return other, label(cfg, other)

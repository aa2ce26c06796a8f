"""Shareable links: what a page URL asks for, read once per session before the widgets bind to the URL.

Every numeric sidebar widget is bound to the URL by Streamlit itself (`bind="query-params"`, key =
parameter name), which keeps the link in step with the controls. The binding drops a value it
cannot use without a word; this module reads the raw query first, so a refused link value is
named in a message (escaped: the value came from a stranger), a value above a host cap is
clamped with a note, and old links (`?truncation=20` without `bptt=k`) keep working. Choice
widgets are written by write_choices instead: the binding would put their labels ("LSTM",
"adding problem") into the URL, and links name values (`cell=lstm&task=adding`).
"""

from __future__ import annotations

import re
from dataclasses import fields

from engine import Config, ConfigError, TrainingConfig
from engine.config import check_value, field_info
from ui.serving import limits

FIELDS = tuple(f.name for cls in (Config, TrainingConfig) for f in fields(cls) if f.name != "device")
EXTRAS = ("bptt",)  # the page's BPTT mode: a widget that is no field (Config reads it from truncation, k1 and k2)
PAGE_PARAMS = ("present", "lesson", "run_step", "run_id")  # page modes (present, lessons); a running run's step and token (lost_run)
BPTT_MODES = ("full", "k", "k1k2")
CAPPED = ("seq_len", "hidden_size", "batch_size", "steps", "truncation", "k1", "k2")
SHOWN_CHARS = 40  # a refused value is quoted up to this length


def escape(text: str) -> str:
    """text safe inside Streamlit markdown: every ASCII punctuation mark backslash-escaped (no links, images, HTML, math)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def quote(raw) -> str:
    """A user's value as shown in a message: shortened, escaped, in quotes."""
    text = str(raw)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS] + "…"
    return f"“{escape(text)}”"


def _parse_one(name: str, raw: str, rng: dict):
    """(value, None) or (None, reason) for one link parameter: Config's own parse and check, then the widget's lower end.

    The reason is the field's rule in the page's words; the value is quoted by the caller (it came from a stranger).
    """
    if name == "bptt":
        return (raw, None) if raw in BPTT_MODES else (None, f"must be one of {', '.join(BPTT_MODES)}")
    info = field_info(name)
    if info["choices"] is not None:
        allowed = f"must be one of {', '.join(info['choices'])}"
    else:
        lo, hi = rng[name][0], info["hi"]  # a host cap is not a refusal: parse() clamps to it with a note
        allowed = f"must be an integer from {lo} to {hi}" if info["type"] in ("int", int) else f"must be a number from {lo:g} to {hi:g}"
    try:
        value = check_value(name, raw)
    except ConfigError:
        return None, allowed
    if info["choices"] is None and value < rng[name][0]:  # a strictly positive field's widget starts above 0 (limits.POSITIVE_MIN)
        return None, allowed
    return value, None


def parse(query: dict[str, list[str]], cap: dict) -> tuple[dict, list[str], list[str]]:
    """(widget values the link sets, errors, warnings) from the raw URL parameters (each a list: repeats kept).

    A refused value is left out (its widget keeps its default) and named in an error; a value above a
    host cap is clamped, with a warning.
    """
    rng = limits.ranges(cap)
    values, errors, warnings = {}, [], []
    for name, raws in query.items():
        raws = [raws] if isinstance(raws, str) else list(raws)
        if name == "device":
            warnings.append("Link parameter `device` ignored: the device is chosen automatically here.")
            continue
        if name.startswith("vs.") or name in PAGE_PARAMS:
            continue  # the compared configuration (ui.page.compare) and the page's own modes read these
        if name not in FIELDS and name not in EXTRAS:
            warnings.append(f"Link parameter {quote(name)} is not a setting of this page; it was ignored.")
            continue
        if not raws:
            continue
        if len(raws) > 1:
            warnings.append(f"Link parameter `{name}` was given {len(raws)} times; the last one, {quote(raws[-1])}, is used.")
        if name in ("truncation", "k1", "k2") and raws[-1].strip() == "0":
            continue  # 0 = full BPTT, as in Config and the command line
        value, reason = _parse_one(name, raws[-1], rng)
        if reason is not None:
            errors.append(f"Link parameter `{name}` refused: {reason} (got {quote(raws[-1])}). Using the default.")
            continue
        if name in CAPPED and value > rng[name][1]:
            warnings.append(f"Link parameter `{name}`={value} is above this server's limit {rng[name][1]}; using {rng[name][1]}.")
            value = rng[name][1]
        values[name] = value
    if "bptt" not in values:  # links written before the mode was a parameter
        if "truncation" in values:
            values["bptt"] = "k"
        elif "k1" in values or "k2" in values:
            values["bptt"] = "k1k2"
    return values, errors, warnings


def forget_in_url(keys) -> None:
    """Drop link values this page refused from the URL, and from the snapshot Streamlit seeds bound widgets from.

    Streamlit 1.67's binding crashes on some values it should refuse (`?steps=1` followed by 400
    zeros: OverflowError in int(inf)); those never reach it. The snapshot is private API (see
    ui.serving.streamlit_private.forget_query_params; tests/test_app.py checks the crash stays gone).
    """
    from ui.serving.streamlit_private import forget_query_params

    forget_query_params(keys)


def write_choices(values: dict, defaults: dict) -> None:
    """Put the choice widgets' values into the URL by name (`cell=lstm`), leaving out defaults; only what changed is sent."""
    import streamlit as st

    for name, value in values.items():
        if value == defaults[name]:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != value:
            st.query_params[name] = value


def write_values(values: dict) -> None:
    """Write widget values into the URL before their widgets bind (the first run of a session): one value per name."""
    import streamlit as st

    for name, value in values.items():
        st.query_params[name] = repr(value) if isinstance(value, float) else str(value)


def raw_query(query_params) -> dict[str, list[str]]:
    """Every URL parameter with all its values (st.query_params keeps only the last in to_dict())."""
    return {key: query_params.get_all(key) for key in query_params}

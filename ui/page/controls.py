"""Sidebar controls: one table of widgets keyed by Config field names, bound to the URL, read back into one Config.

Streamlit keeps each widget and its URL parameter in step (`bind="query-params"`) and keeps a
hidden widget's value (`persist_state="page"`: k while full BPTT is chosen). Ranges are fixed
(the Config table within the host's caps); settings that depend on each other are settled by
ui.page.rules in the widgets' change callback, which says what it changed. A link is read once per
session (ui.page.links) so that a refused value gets a message naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from engine import TASKS, Config
from engine.backend import resolve_device
from engine.cells import CELLS
from engine.config import field_info
from ui.serving import limits
from ui.teaching import lessons

from . import compare, links, own_data, rules
from .help import HELP
from .widget_values import defaults, read_config, resolve

CELL_LABELS = {name: cls.label for name, cls in CELLS.items()}
BPTT_LABELS = {"full": "full BPTT", "k": "truncated every k steps", "k1k2": "TBPTT(k1, k2)"}
# Short enough for the sidebar's select box; the task's full description goes in a caption under it.
TASK_LABELS = {
    "adding": "adding problem",
    "first": "first input",
    "copy": "copy (delayed recall)",
    "sine": "noisy sine",
    "nile": "Nile flow (real data)",
    "co2": "CO₂ at Mauna Loa (real data)",
    "sunspots": "sunspots (real data)",
    "text": "next character of a text",
    "series": "your own series",
}
CLIP_LABELS = {"none": "none", "norm": "by global norm", "value": "by value"}


@dataclass(frozen=True)
class Control:
    """One sidebar widget: its kind, label and display details; choices and ranges come from the Config table."""

    name: str
    label: str
    kind: str  # radio | select | number | slider
    step: float | None = None
    fmt: str | None = None
    labels: dict | None = None  # choice -> label shown
    dial: tuple | None = None  # (lo, hi, step) of a slider beside a number box, over the values that matter


CONTROLS = {
    c.name: c
    for c in (
        Control("cell", "Cell", "radio", labels=CELL_LABELS),
        Control("activation", "Activation φ (RNN, IndRNN)", "select"),
        Control("hidden_size", "Hidden size H", "number", 1),
        Control("init", "Initialisation of W_hh", "select"),
        # Fine values: the number box holds the exact value (any in the field's range, bound to the URL); the slider
        # beside it spans the range where the behaviour changes (1.0 for the scale; 0 to a few for the forget bias).
        Control("recurrent_scale", "Recurrent scale ρ", "number", 0.01, "%.6g", dial=(0.05, 1.95, 0.05)),
        Control("forget_bias", "Forget-gate bias (LSTM only)", "number", 0.1, "%.6g", dial=(-2.0, 4.0, 0.1)),
        Control("task", "Task", "select", labels=TASK_LABELS),
        Control("seq_len", "Sequence length T", "number", 1),
        Control("batch_size", "Batch size B", "number", 1),
        Control("seed", "Seed", "number", 1),
        Control("bptt", "Backpropagate through", "radio", labels=BPTT_LABELS),
        Control("truncation", "Truncation horizon k", "number", 1),
        Control("k1", "k1: forward steps between backward passes", "number", 1),
        Control("k2", "k2: steps backpropagated", "number", 1),
        Control("clip", "Gradient clipping", "select", labels=CLIP_LABELS),
        Control("clip_threshold", "Clipping threshold θ", "number", 0.1, "%.6g"),
        Control("optimizer", "Optimiser", "select", labels={"adam": "Adam", "sgd": "SGD"}),
        Control("lr", "Learning rate", "number", 0.001, "%.6g"),
        Control("steps", "Training steps", "number", 50),
        Control("every", "Snapshot every k steps", "number", 1),
        Control("dtype", "Floating point", "select"),
    )
}
HIDDEN_WHEN_IDLE = ("truncation", "k1", "k2")  # drawn only in their BPTT mode; their values persist meanwhile


@dataclass(frozen=True)
class Settings:
    """What the sidebar decided: a valid Config (or the error naming the field), training length, messages."""

    config: Config | None
    steps: int
    every: int
    error: str | None = None
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def choices(name: str) -> tuple:
    if name == "bptt":
        return tuple(BPTT_LABELS)
    return tuple(field_info(name)["choices"])


def _on_change(name: str, cap: dict) -> None:
    """A widget moved: settle what depends on it (in words) before the script reads the values."""
    state = st.session_state
    values = {k: state[k] for k in CONTROLS if k in state}
    changes, notes = rules.settle({**defaults(cap), **values}, cap, moved=name)
    for key, value in changes.items():
        state[key] = value
    state["_notes"] = notes
    state.pop("_link_messages", None)  # the link's messages were about the page as opened


def reset(cap: dict) -> None:
    """Every control back to its default (which also clears its URL parameter)."""
    state = st.session_state
    for key, value in defaults(cap).items():
        state[key] = value
    state["_notes"] = ["All settings are back to their defaults."]
    state.pop("_link_messages", None)


def _widget(c: Control, cap: dict, rng: dict, default, disabled: bool = False, help_text: str | None = None):
    if c.dial is not None:
        return _with_dial(c, cap, rng, default, disabled, help_text)
    return _field(c, cap, rng, default, disabled, help_text)


def _field(c: Control, cap: dict, rng: dict, default, disabled: bool, help_text: str | None, label_visibility: str = "visible"):
    """The widget of a Config field (or of bptt, steps, every): its key is the field's name."""
    common = dict(key=c.name, help=help_text or HELP[c.name], disabled=disabled, on_change=_on_change, args=(c.name, cap))
    common["label_visibility"] = label_visibility
    if c.name in HIDDEN_WHEN_IDLE:
        common["persist_state"] = "page"
    if c.kind in ("radio", "select"):  # not bound: Streamlit would write the label ("LSTM") into the URL, not the value
        options = choices(c.name)
        fmt = (lambda v: c.labels.get(v, v)) if c.labels else str
        if c.kind == "radio":
            return st.radio(c.label, options, index=options.index(default), format_func=fmt, horizontal=c.name == "cell", **common)
        return st.selectbox(c.label, options, index=options.index(default), format_func=fmt, **common)
    lo, hi = rng[c.name]
    common["bind"] = "query-params"
    if c.kind == "slider":
        return st.slider(c.label, lo, hi, value=default, step=c.step, **common)
    kind = int if isinstance(default, int) else float
    return st.number_input(c.label, kind(lo), kind(hi), value=kind(default), step=kind(c.step), format=c.fmt, **common)


DIAL = "_dial"  # a dial's key: the field's name and this suffix (not a Config field, not in the URL)


def _dialled(name: str, cap: dict) -> None:
    """The slider beside a number box moved: the box (the Config field) takes its value, then settles as if moved."""
    st.session_state[name] = float(st.session_state[name + DIAL])
    _on_change(name, cap)


def _with_dial(c: Control, cap: dict, rng: dict, default, disabled: bool = False, help_text: str | None = None):
    """A fine setting: a slider over the values that matter, and beside it the number box that holds the exact value.

    The box is the Config field's widget (key, URL parameter, the field's whole range); the slider
    mirrors it, held at its nearest end when the value lies beyond its span, and writes to it when moved.
    """
    lo, hi, step = c.dial
    state = st.session_state
    value = float(state.get(c.name, default))
    state[c.name + DIAL] = min(max(value, lo), hi)
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        st.slider(
            c.label,
            lo,
            hi,
            step=step,
            key=c.name + DIAL,
            disabled=disabled,
            on_change=_dialled,
            args=(c.name, cap),
            help=f"Drag over {lo:g} to {hi:g}; the box beside it takes any value from {rng[c.name][0]:g} to {rng[c.name][1]:g}.",
        )
    with right:
        return _field(c, cap, rng, default, disabled, help_text, label_visibility="collapsed")


def set_from_page(values: dict) -> None:
    """Set controls from a button on the page (a lesson step's), in a callback: settled as if the last one moved here."""
    for name, value in values.items():
        st.session_state[name] = value
    _on_change(list(values)[-1], limits.caps())


def request(name: str, value) -> None:
    """Set a control from the page (a click on a chart): applied before the widgets are drawn again, at once."""
    st.session_state.setdefault("_requests", {})[name] = value
    st.rerun()


def first_visit(cap: dict) -> None:
    """Once per session, before any widget: read the link, keep its messages, and put the values it asks for in place.

    Every widget gets its value from the session state on this first run: the link's values are
    taken out of the snapshot Streamlit would seed bound widgets from. The URL keeps what was
    valid, once, by name; a refused, ignored or repeated parameter is rewritten before it binds.
    """
    state = st.session_state
    if "_link_read" in state:
        return
    state["_link_read"] = True
    query = links.raw_query(st.query_params)
    values, errors, warnings = links.parse(query, cap)
    overrides, compare_errors = compare.parse(query)
    errors += compare_errors
    compare.set_overrides(overrides)
    fresh = defaults(cap)
    base = fresh
    lesson = query.get(lessons.PARAM, [None])[-1]
    if lesson is not None:
        if lessons.get(lesson) is None:
            errors.append(f"Link parameter `lesson` refused: there is no lesson {links.quote(lesson)}.")
        else:  # the lesson's settings, under what the link itself says; a host cap that changes one is said
            lesson_values, lesson_notes = resolve(lessons.get(lesson).settings, cap)
            base, warnings = {**base, **lesson_values}, warnings + lesson_notes
            state[lessons.STATE_KEY] = lesson
    wanted = {**base, **values}
    changes, notes = rules.settle(wanted, cap)
    wanted.update(changes)
    state["_link_messages"] = (errors, warnings + notes)
    links.forget_in_url([k for k in query if not k.startswith(compare.PREFIX) and k not in links.PAGE_PARAMS])
    links.write_values({k: v for k, v in wanted.items() if v != fresh[k]})
    for name, value in wanted.items():
        state[name] = value


def sidebar() -> Settings:
    """Draw the controls and return the Config they describe; moving them never trains anything."""
    cap = limits.caps()
    state = st.session_state
    first_visit(cap)
    for name, value in state.pop("_requests", {}).items():  # set by a chart click in the previous run (ui.page.controls.request)
        state[name] = value
    rng, base = limits.ranges(cap), defaults(cap)
    w = {}
    with st.sidebar:
        st.button("Reset to defaults", key="reset", on_click=reset, args=(cap,), icon=":material/restart_alt:")
        st.header("Network")
        w["cell"] = _widget(CONTROLS["cell"], cap, rng, base["cell"])
        cell = CELLS[w["cell"]]
        w["activation"] = _widget(CONTROLS["activation"], cap, rng, base["activation"], disabled=not cell.uses_activation)
        st.caption(f"{cell.label}: {cell.description}.")
        for name in ("hidden_size", "init"):
            w[name] = _widget(CONTROLS[name], cap, rng, base[name])
        scale_help = f"{HELP['recurrent_scale']}\n\nFor the {cell.label}: {cell.scale_meaning}."
        w["recurrent_scale"] = _widget(CONTROLS["recurrent_scale"], cap, rng, base["recurrent_scale"], help_text=scale_help)
        w["forget_bias"] = _widget(CONTROLS["forget_bias"], cap, rng, base["forget_bias"], disabled=not cell.has_forget_bias)

        st.header("Task")
        w["task"] = _widget(CONTROLS["task"], cap, rng, base["task"])
        st.caption(task_caption(w["task"]))
        own_data.panel(w["task"])
        for name in ("seq_len", "batch_size", "seed"):
            w[name] = _widget(CONTROLS[name], cap, rng, base[name])

        st.header("Backpropagation")
        w["bptt"] = _widget(CONTROLS["bptt"], cap, rng, base["bptt"])
        for name in {"k": ("truncation",), "k1k2": ("k1", "k2")}.get(w["bptt"], ()):
            w[name] = _widget(CONTROLS[name], cap, rng, base[name])
        w["clip"] = _widget(CONTROLS["clip"], cap, rng, base["clip"])
        w["clip_threshold"] = _widget(CONTROLS["clip_threshold"], cap, rng, base["clip_threshold"], disabled=w["clip"] == "none")

        st.header("Training")
        for name in ("optimizer", "lr", "steps", "every"):
            w[name] = _widget(CONTROLS[name], cap, rng, base[name])
        with st.expander("Precision and device"):
            w["dtype"] = _widget(CONTROLS["dtype"], cap, rng, base["dtype"])
            st.caption(f"Computing on: {resolve_device('auto')} (chosen automatically).")
    links.write_choices({k: v for k, v in w.items() if CONTROLS[k].kind in ("radio", "select")}, base)
    config, error = read_config(w)
    if (missing := own_data.problem(config)) is not None:  # task series without numbers yet, or data shorter than T
        config, error = None, missing
    errors, warnings = state.get("_link_messages", ([], []))
    notes = state.get("_notes", [])
    return Settings(config, int(w["steps"]), int(w["every"]), error, list(errors), list(warnings) + list(notes))


def task_caption(task: str) -> str:
    """The task's full description as a sentence, shown under the select box that holds only its short label."""
    text = TASKS[task].description
    return f"{text[0].upper()}{text[1:]}."

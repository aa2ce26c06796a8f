"""Lessons: settings that make one idea visible, steps saying what to look at, and a claim measured on the run shown.

The lessons themselves are data (ui/lessons.toml); this module loads them and holds the checks,
pure functions of a Trace. Nothing here calls Streamlit at import: `apply_settings` and
`open_lesson` import it when called (from a button's callback).
"""

from __future__ import annotations

import importlib
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from engine import Trace

DATA = Path(__file__).with_name("lessons.toml")
PARAM = "lesson"  # the URL parameter that opens a lesson: ?lesson=<slug>
STATE_KEY = "_lesson"  # session-state key holding the slug of the open lesson
SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


@dataclass(frozen=True)
class Claim:
    """The lesson's claim on one run: held or not, the sentence shown, and the number it rests on."""

    held: bool
    text: str
    value: float


@dataclass(frozen=True)
class Lesson:
    """One stop on the path: what it sets, what to look at, what it claims and how that is checked."""

    slug: str
    title: str
    settings: dict  # sidebar widget key -> value
    steps: tuple[str, ...]
    claim: str
    check: dict  # kind + the check's parameters (see lessons.toml)


def _load(path: Path = DATA) -> tuple[Lesson, ...]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["lesson"]
    return tuple(Lesson(d["slug"], d["title"], dict(d["settings"]), tuple(d["steps"]), d["claim"], dict(d["check"])) for d in raw)


LESSONS: tuple[Lesson, ...] = _load()
_BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}


def get(slug: str) -> Lesson | None:
    """The lesson with this slug, or None (a link may name one that does not exist)."""
    return _BY_SLUG.get(slug)


def neighbours(slug: str) -> tuple[Lesson | None, Lesson | None]:
    """(previous, next) on the path; None at either end."""
    i = [lesson.slug for lesson in LESSONS].index(slug)
    return (LESSONS[i - 1] if i > 0 else None, LESSONS[i + 1] if i + 1 < len(LESSONS) else None)


def link_for(settings: dict) -> str:
    """The query string (with its '?') that opens the page with these settings, written as the page writes them."""
    return "?" + urlencode({k: repr(v) if isinstance(v, float) else str(v) for k, v in settings.items()})


def lesson_link(lesson: Lesson) -> str:
    """The short link of a lesson: ?lesson=<slug> (the page then applies its settings)."""
    return "?" + urlencode({PARAM: lesson.slug})


def resolve(settings: dict, cap: dict) -> tuple[dict, list[str]]:
    """(every widget value, notes): the defaults with these settings on top, clamped to the host's caps and settled."""
    from . import controls, limits, rules

    values = {**controls.defaults(cap), **settings}
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


def config_for(settings: dict, cap: dict | None = None):
    """The Config the page computes once these settings are applied (the same path as the sidebar's)."""
    from . import controls, limits

    values, _ = resolve(settings, limits.caps() if cap is None else cap)
    config, error = controls.read_config(values)
    if error:
        raise ValueError(error)
    return config


def apply_settings(settings: dict, cap: dict | None = None) -> None:
    """Set every sidebar control (from a button's on_click): the defaults, with these settings on top, settled."""
    import streamlit as st

    from . import limits

    values, notes = resolve(settings, limits.caps() if cap is None else cap)
    state = st.session_state
    for key, value in values.items():
        state[key] = value
    state["_notes"] = notes
    state.pop("_link_messages", None)


def open_lesson(slug: str, cap: dict | None = None) -> None:
    """A button's on_click: apply the lesson's settings and remember it as the open lesson."""
    import streamlit as st

    lesson = _BY_SLUG[slug]
    apply_settings(lesson.settings, cap)
    st.session_state[STATE_KEY] = slug
    st.session_state["_notes"] = [f"Lesson “{lesson.title}”: its settings are applied."] + st.session_state["_notes"]


def write_url(slug: str | None) -> None:
    """The open lesson in the URL (?lesson=<slug>), so the link opens it again; removed when none is open."""
    import streamlit as st

    if slug and st.query_params.get(PARAM) != slug:
        st.query_params[PARAM] = slug
    elif not slug and PARAM in st.query_params:
        del st.query_params[PARAM]


def close_lesson() -> None:
    """A button's on_click: leave the lesson path (the settings stay as they are)."""
    import streamlit as st

    st.session_state.pop(STATE_KEY, None)


def check(lesson: Lesson, trace: Trace) -> Claim:
    """The lesson's claim measured on this trace."""
    params = {k: v for k, v in lesson.check.items() if k != "kind"}
    return _check_function(lesson.check["kind"])(trace, **params)


def _check_function(kind: str) -> Callable[..., Claim]:
    if ":" in kind:  # a check that lives in another module (the hook for lessons added elsewhere)
        module, name = kind.split(":")
        return getattr(importlib.import_module(module), name)
    return CHECKS[kind]


# ---- the checks: pure functions of a Trace -----------------------------------------------------------------------------


def fmt(x: float) -> str:
    """A measured number as shown: two significant digits (2e-11, 0.14, 4.2e+06 -> 4.2e6)."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.2g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def sub(n: int) -> str:
    return str(n).translate(SUBSCRIPT)


def _claim(held: bool, measured: str, criterion: str, value: float, seeds: str | None = None) -> Claim:
    if held:
        tail = f" ({criterion}; the lesson's settings on seeds 0–9: {seeds})" if seeds else f" ({criterion})"
        return Claim(True, f"✓ measured on this run: {measured}{tail}", value)
    return Claim(False, f"✗ not on this run: {measured}; the lesson claims {criterion}", value)


def _span(lo, hi) -> str:
    """A measured range as shown; whole numbers (steps) in full."""
    a, b = (f"{x:g}" if float(x).is_integer() and abs(x) < 1e6 else fmt(x) for x in (lo, hi))
    return a if a == b else f"{a} to {b}"


def end_ratio(trace: Trace) -> tuple[float, str]:
    """‖∂L/∂h_0‖ / ‖∂L/∂h_(T−1)‖ and its name as shown."""
    g = trace.grad_h
    T = len(g)
    with np.errstate(all="ignore"):
        r = float(g[0] / g[-1]) if g[-1] != 0 else math.nan
    return r, f"‖∂L/∂h₀‖ / ‖∂L/∂h{sub(T - 1)}‖ = {fmt(r)}"


def vanishing(trace: Trace, below: float, seeds) -> Claim:
    r, shown = end_ratio(trace)
    T = len(trace.grad_h)
    gamma = trace.gamma if trace.gamma is not None else math.nan
    bound = (gamma * trace.sigma_max) ** (T - 1)
    under_bound = trace.gamma is not None and r <= bound * (1 + 1e-4)
    held = math.isfinite(r) and r < below and under_bound
    crit = f"below {fmt(below)} and under the bound (γ·σ_max)^{T - 1} = {fmt(bound)}"
    return _claim(held, shown, crit, r, _span(*seeds))


def exploding(trace: Trace, above: float, seeds) -> Claim:
    if trace.overflow_step is not None:
        t = trace.overflow_step
        shown = f"the hidden state overflows {trace.config.dtype} at step {t}"
        return _claim(True, shown, "an overflow, or growth above " + fmt(above), float(t), f"overflow at step {_span(*seeds)}")
    r, shown = end_ratio(trace)
    held = math.isfinite(r) and r > above
    return _claim(held, shown + " (no overflow)", f"an overflow, or growth above {fmt(above)}", r)


def clipping(trace: Trace, below: float, seeds) -> Claim:
    r, shown = end_ratio(trace)
    cfg = trace.config
    if cfg.clip != "norm":
        return _claim(False, f"clipping is {cfg.clip}", "norm clipping", r)
    before, after = trace.grad_norm_before_clip, trace.grad_norm_after_clip
    theta = fmt(cfg.clip_threshold)
    clip_text = f"‖g‖ = {fmt(before)} clipped to {fmt(after)}" if trace.clipped else f"‖g‖ = {fmt(before)} not clipped (θ = {theta})"
    held = trace.clipped and after <= cfg.clip_threshold * (1 + 1e-5) and math.isfinite(r) and r < below
    return _claim(held, f"{clip_text}; {shown}", f"a clipped update and a ratio below {fmt(below)}", r, _span(*seeds))


def reached_steps(trace: Trace) -> np.ndarray:
    """Boolean (T,): the steps truncated BPTT carries a gradient to (Config.truncation_blocks and the loss steps)."""
    T = len(trace.grad_h)
    loss = set(int(s) for s in trace.loss_steps)
    reached = np.zeros(T, bool)
    for end, lo, first in trace.config.truncation_blocks():
        top = [s for s in range(first, end + 1) if s in loss]
        if top:
            reached[lo : max(top) + 1] = True
    return reached


def truncation(trace: Trace, seeds) -> Claim:
    reached = reached_steps(trace)
    g = trace.grad_h
    horizon = int(np.argmax(reached))
    if trace.config.tbptt is None:
        return _claim(False, "full BPTT: nothing is cut", "a truncation horizon", float(horizon))
    zero_beyond = bool(np.all(g[~reached] == 0))
    alive = bool(np.all(g[reached] > 0))
    n = int((~reached).sum())
    shown = f"‖∂L/∂h_t‖ = 0 exactly at all {n} steps not reached, > 0 at all {int(reached.sum())} reached (horizon t = {horizon})"
    if not zero_beyond:
        shown = f"{int((g[~reached] != 0).sum())} of the {n} steps beyond the horizon have a nonzero gradient"
    elif not alive:
        shown = f"{int((g[reached] == 0).sum())} reached steps have a zero gradient (dead units or underflow)"
    crit = "exactly zero beyond the horizon, nonzero within"
    return _claim(zero_beyond and alive, shown, crit, float(horizon), f"horizon {_span(*seeds)}")


def orders_lost(trace: Trace) -> float:
    """log10 of ‖∂L/∂h_(T−1)‖ / ‖∂L/∂h_0‖: how many orders of magnitude the gradient loses going back."""
    r, _ = end_ratio(trace)
    return -math.log10(r) if r > 0 and math.isfinite(r) else math.nan


def forget_bias(trace: Trace, bands, seeds) -> Claim:
    b = trace.config.forget_bias
    lost = orders_lost(trace)
    T = len(trace.grad_h)
    f = float(trace.gates["f"].mean()) if "f" in trace.gates else math.nan
    shown = f"mean forget gate f = {f:.2f}; the gradient loses {lost:.1f} orders of magnitude over {T - 1} steps"
    band = next((row for row in bands if row[0] == b), None)
    if trace.config.cell != "lstm" or band is None:
        return _claim(False, shown, "a result for forget bias 0, 1 or 3 of an LSTM", lost)
    _, lo, hi = band
    if hi >= 40:
        crit = f"at forget bias {b:g}: more than {lo:g} orders lost"
    elif lo < 0:
        crit = f"at forget bias {b:g}: from a gain of {-lo:g} to a loss of {hi:g} orders"
    else:
        crit = f"at forget bias {b:g}: {lo:g} to {hi:g} orders lost"
    seed_row = next(row for row in seeds if row[0] == b)
    return _claim(lo <= lost <= hi, shown, crit, lost, f"{seed_row[1]:g} to {seed_row[2]:g} orders lost")


def gru(trace: Trace, z, orders, seeds) -> Claim:
    lost = orders_lost(trace)
    zbar = float(trace.gates["z"].mean()) if "z" in trace.gates else math.nan
    T = len(trace.grad_h)
    shown = f"mean update gate z = {zbar:.2f}; the gradient loses {lost:.1f} orders of magnitude over {T - 1} steps"
    held = z[0] <= zbar <= z[1] and lost > orders
    crit = f"z between {z[0]:g} and {z[1]:g}, more than {orders:g} orders lost"
    return _claim(held, shown, crit, lost, f"{seeds[0]:g} to {seeds[1]:g} orders lost")


def flat(trace: Trace, between, seeds) -> Claim:
    r, shown = end_ratio(trace)
    held = between[0] <= r <= between[1]
    return _claim(held, shown, f"between {fmt(between[0])} and {fmt(between[1])}", r, _span(*seeds))


def lru(trace: Trace, seeds) -> Claim:
    r, shown = end_ratio(trace)
    if trace.unit_decay is None or trace.config.cell != "lru":
        return _claim(False, shown, "an LRU's |λ|^(T−1) law", r)
    T = len(trace.grad_h)
    lo, hi = float(trace.unit_decay.min()) ** (T - 1), float(trace.unit_decay.max()) ** (T - 1)
    tol = 1e-3  # float32 rounding over a few hundred steps
    held = len(trace.loss_steps) == 1 and trace.config.tbptt is None and lo * (1 - tol) <= r <= hi * (1 + tol)
    crit = f"|λ|^{T - 1} = {fmt(lo)}" if fmt(lo) == fmt(hi) else f"between min |λ|^{T - 1} = {fmt(lo)} and max |λ|^{T - 1} = {fmt(hi)}"
    return _claim(held, shown, crit, r, _span(*seeds))


CHECKS: dict[str, Callable[..., Claim]] = {
    "vanishing": vanishing,
    "exploding": exploding,
    "clipping": clipping,
    "truncation": truncation,
    "forget_bias": forget_bias,
    "gru": gru,
    "flat": flat,
    "lru": lru,
}

"""Lessons: settings that make one idea visible, steps saying what to look at, and a claim measured on the run shown.

The lessons themselves are data (ui/teaching/lessons.toml); this module loads them and holds the checks,
pure functions of a Trace. Nothing here calls Streamlit at import: `apply_settings` and
`open_lesson` import it when called (from a button's callback).
"""

from __future__ import annotations

import importlib
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from engine import Trace
from ui.page.widget_values import config_for, resolve
from viz.measures import END_RATIO, FACTOR, end_ratio_text, factor_text, lag_ratio_name, orders, ratio_name
from viz.measures import end_ratio as _ratio
from viz.measures import lag_ratio as _lag_ratio

from . import learn_text

DATA = Path(__file__).with_name("lessons.toml")
PARAM = "lesson"  # the URL parameter that opens a lesson: ?lesson=<slug>
STATE_KEY = "_lesson"  # session-state key holding the slug of the open lesson
SPAN = "0–9"  # the seeds a check's `seeds` range was measured over, unless the check names its own `span` (lessons.toml)
SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


@dataclass(frozen=True)
class Claim:
    """The lesson's claim on one run: held or not, the sentence shown, the number it rests on, and what was measured."""

    held: bool
    text: str
    value: float
    measured: str = ""  # what this run shows, in words, without a verdict
    criterion: str = ""  # what the claim asks of it


@dataclass(frozen=True)
class Scenario:
    """A claim and its check for the lesson's settings with `when` changed ({} : the lesson's own settings)."""

    when: dict
    claim: str
    check: dict


@dataclass(frozen=True)
class Lesson:
    """One stop on the path: what it sets, what to look at, what it claims and how that is checked."""

    slug: str
    title: str
    settings: dict  # sidebar widget key -> value
    steps: tuple[str, ...]
    claim: str
    check: dict  # kind + the check's parameters (see lessons.toml)
    also: tuple[Scenario, ...] = ()  # the claims for a step's settings (lessons.toml [[lesson.also]])

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        """The lesson's own claim first, then those for the settings its steps set."""
        return (Scenario({}, self.claim, self.check), *self.also)


@dataclass(frozen=True)
class Verdict:
    """What the card shows about the run on screen: the claim that covers it, and held / failed / other settings."""

    status: str  # "held" | "failed" | "other" (settings no claim covers: said neutrally, never as a failure)
    claim: str  # the claim sentence shown
    text: str  # the measured result, in words
    note: str | None  # how the run's settings differ from those the claim covers
    result: Claim


def _load(path: Path = DATA) -> tuple[Lesson, ...]:
    """The lessons, a step's {{placeholder}} filled with the range bench/claim_ranges.py measured (ui/teaching/learn_text.py)."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["lesson"]
    measured = learn_text.claims()
    out = []
    for d in raw:
        check = dict(d["check"])
        also = tuple(Scenario(dict(a["when"]), a.get("claim", d["claim"]), _merged(check, a.get("check", {}))) for a in d.get("also", ()))
        steps = tuple(learn_text.fill(step, measured) for step in d["steps"])
        out.append(Lesson(d["slug"], d["title"], dict(d["settings"]), steps, d["claim"], check, also))
    return tuple(out)


def _merged(check: dict, own: dict) -> dict:
    """A scenario's check: its own keys over the lesson's, or only its own when it names another kind."""
    return dict(own) if "kind" in own and own["kind"] != check["kind"] else {**check, **own}


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


def apply_settings(settings: dict, cap: dict | None = None) -> None:
    """Set every sidebar control (from a button's on_click): the defaults, with these settings on top, settled."""
    import streamlit as st

    from ui.serving import limits

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


def check(lesson: Lesson | Scenario, trace: Trace) -> Claim:
    """The lesson's (or one scenario's) claim measured on this trace, its range named with the seeds it was measured on."""
    params = {k: v for k, v in lesson.check.items() if k not in ("kind", "span")}
    claim = _check_function(lesson.check["kind"])(trace, **params)
    span = lesson.check.get("span", SPAN)
    return claim if span == SPAN else replace(claim, text=claim.text.replace(f"on seeds {SPAN}:", f"on seeds {span}:"))


IGNORED = ("device", "seed")  # a claim covers every seed (its range is measured on 0-9) and either device


def _differences(planned, config) -> dict:
    """{field: (planned value, the run's value)} for every Config field that differs."""
    a, b = planned.to_dict(), config.to_dict()
    return {name: (a[name], b[name]) for name in a if name != "device" and a[name] != b[name]}


def _said(diff: dict) -> str:
    return ", ".join(f"{name} {was} → {now}" for name, (was, now) in diff.items())


def verdict(lesson: Lesson, trace: Trace, cap: dict | None = None) -> Verdict:
    """The claim that covers the run shown, measured on it; on settings no claim covers, a neutral account, never ✗.

    A claim covers the lesson's settings, or those a step's button sets ([[lesson.also]]), on any seed.
    Only a covered run whose claim fails is a failure: the lesson would be wrong there, and the card says so.
    """
    for scenario in lesson.scenarios:
        planned = config_for({**lesson.settings, **scenario.when}, cap)
        diff = _differences(planned, trace.config)
        if all(name in IGNORED for name in diff):
            result = check(scenario, trace)
            note = f"This run differs from the settings the claim covers in: {_said(diff)}." if diff else None
            return Verdict("held" if result.held else "failed", scenario.claim, result.text, note, result)
    result = check(lesson, trace)
    diff = _differences(config_for(lesson.settings, cap), trace.config)
    note = f"The claim covers the lesson's settings; this run differs in: {_said(diff)}."
    if result.held:  # without the seeds' range: it was measured on the lesson's settings, not these
        return Verdict("held", lesson.claim, f"✓ holds on this run too: {result.measured} ({result.criterion})", note, result)
    return Verdict("other", lesson.claim, f"Measured on this run: {result.measured}.", note, result)


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
        tail = f" ({criterion}; these settings on seeds {SPAN}: {seeds})" if seeds else f" ({criterion})"
        return Claim(True, f"✓ measured on this run: {measured}{tail}", value, measured, criterion)
    return Claim(False, f"✗ not on this run: {measured}; the lesson claims {criterion}", value, measured, criterion)


def _span(lo, hi) -> str:
    """A measured range as shown; whole numbers (steps) in full."""
    a, b = (f"{x:g}" if float(x).is_integer() and abs(x) < 1e6 else fmt(x) for x in (lo, hi))
    return a if a == b else f"{a} to {b}"


def end_ratio(trace: Trace) -> tuple[float, str]:
    """The end-to-end ratio ‖∂L/∂h_0‖ / ‖∂L/∂h_(T−1)‖ and its words, as the gradient chart writes them (viz.measures)."""
    return _ratio(trace.grad_h), end_ratio_text(trace.grad_h, number=fmt)


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
    """Growth above `above` end to end, or an overflow the chart marks, with the finite part growing (factor per step > 1)."""
    f = trace.decay_factor if trace.decay_factor is not None and math.isfinite(trace.decay_factor) else None
    growth = f"{FACTOR} {factor_text(f)}" if f is not None else f"no {FACTOR} (nothing finite to fit)"
    crit = f"growth above {fmt(above)} end to end, or an overflow (marked) after growing"
    dtype = trace.config.dtype
    if trace.overflow_step is not None or trace.overflow_grad_step is not None:
        if trace.overflow_step is not None:
            t, where = trace.overflow_step, f"the forward state overflows {dtype} at step {trace.overflow_step}"
        else:
            t = trace.overflow_grad_step
            where = f"the gradient overflows {dtype} at step {t}, {len(trace.grad_h) - 1 - t} steps back from the loss"
        held = f is None or f > 1
        return _claim(held, f"{where}; before that, {growth}", crit, float(t), f"overflow at step {_span(*seeds)}")
    r, shown = end_ratio(trace)
    held = math.isfinite(r) and r > above
    return _claim(held, f"{shown}, {growth}, no overflow", crit, r, _span(*seeds))


def factor(trace: Trace, between, seeds) -> Claim:
    """The factor per step (fitted) lies in [lo, hi]."""
    f = trace.decay_factor if trace.decay_factor is not None else math.nan
    r, shown = end_ratio(trace)
    held = math.isfinite(f) and between[0] <= f <= between[1]
    measured = f"{FACTOR} {factor_text(f) if math.isfinite(f) else 'not measurable'}; {shown}"
    lo, hi = (f"{x:.2f}" for x in seeds)
    return _claim(held, measured, f"{FACTOR} between {between[0]:g} and {between[1]:g}", f, lo if lo == hi else f"{lo} to {hi}")


def clipping(trace: Trace, below: float, seeds) -> Claim:
    r, shown = end_ratio(trace)
    cfg = trace.config
    before, after = trace.grad_norm_before_clip, trace.grad_norm_after_clip
    if cfg.clip == "none":  # the step that switches clipping off: the update keeps its norm, the ratio stays
        held = not trace.clipped and after == before and math.isfinite(r) and r < below
        text = f"no clipping: ‖g‖ = {fmt(before)} kept; {shown}"
        return _claim(held, text, f"an unclipped update and a ratio below {fmt(below)}", r, _span(*seeds))
    if cfg.clip != "norm":
        return _claim(False, f"clipping is {cfg.clip}", "norm clipping", r)
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
    """−log10 of the end-to-end ratio: how many orders of magnitude the gradient loses going back."""
    return orders(_ratio(trace.grad_h))


def _orders_words(trace: Trace) -> str:
    """'end-to-end ratio ‖∂L/∂h₀‖ / ‖∂L/∂h₉₉‖ = 8e-16: 15.1 orders of magnitude lost', named as the chart names it."""
    r = _ratio(trace.grad_h)
    lost = orders(r)
    if not math.isfinite(lost):
        n = "no orders of magnitude measurable"
    else:
        n = f"{lost:.1f} orders of magnitude lost" if lost >= 0 else f"{-lost:.1f} orders of magnitude gained"
    return f"{END_RATIO} {ratio_name(len(trace.grad_h))} = {fmt(r)}: {n}"


def forget_bias(trace: Trace, bands, seeds) -> Claim:
    b = trace.config.forget_bias
    lost = orders_lost(trace)
    f = float(trace.gates["f"].mean()) if "f" in trace.gates else math.nan
    shown = f"mean forget gate f = {f:.2f}; {_orders_words(trace)}"
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
    shown = f"mean update gate z = {zbar:.2f}; {_orders_words(trace)}"
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


def lag(trace: Trace, p: int, between, seeds) -> Claim:
    """How much of the last step's own gradient reaches p steps back (one cycle of a real series) lies in [lo, hi].

    The number is viz.measures.lag_ratio, the one bench/real_data_lag.py prints: two points of the chart's
    ‖∂loss_{T−1}/∂hₜ‖ curve (the last step's loss alone), t = T−1−p over t = T−1.
    """
    r = _lag_ratio(trace, p)
    T = len(trace.grad_h)
    name = lag_ratio_name(T, p)
    if not math.isfinite(r):
        shown = f"{name}: not measurable (the lag is out of range, or an end point is 0 or not finite)"
    else:
        shown = f"{name} = {fmt(r)} ({p} steps back" + (f", 10^{math.log10(r):.2f})" if r > 0 else ")")
    held = math.isfinite(r) and between[0] <= r <= between[1]
    return _claim(held, shown, f"between {fmt(between[0])} and {fmt(between[1])}", r, _span(*seeds))


CHECKS: dict[str, Callable[..., Claim]] = {
    "vanishing": vanishing,
    "exploding": exploding,
    "clipping": clipping,
    "truncation": truncation,
    "forget_bias": forget_bias,
    "gru": gru,
    "flat": flat,
    "lru": lru,
    "factor": factor,
    "lag": lag,
}

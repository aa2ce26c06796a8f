"""Cached engine calls and figures keyed by the (frozen, hashable) Config, so a rerun or a return to a setting is cheap.

The cache is bounded in bytes (ui/serving/bytecache.py, RNNLAB_CACHE_MB) and shared by every session
of the process; a pass that is not cached waits for one of the process's job slots
(ui/serving/admission.py, RNNLAB_MAX_JOBS) and says "queued, position k" on the page meanwhile.
Estimates are this server's: the first page starts a short probe in the background
(engine/calibration.py) that scales the cost model to this machine.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import plotly.graph_objects as go
import streamlit as st

import engine
from engine import calibration, cancel, cost
from engine.backend import resolve_device
from ui.serving import admission
from ui.serving.bytecache import ByteLRU, cache_bytes
from ui.serving.session_signal import SessionGone
from ui.serving.streamlit_private import script_session_id
from viz import connectivity, decay, gates, gradients, graph, theme, units
from viz.downsample import pick_indices

from . import own_data

CONN_AUTO_T = 200  # connectivity is computed without asking up to this T
CONN_ROWS = 200  # beyond it: about this many evenly spaced loss steps t ...
CONN_BATCH = 4  # ... on this many sequences of the batch
VIEWS = {
    "grad": gradients.grad_norm_curve,
    "contrib": gradients.contrib_bars,
    "gate_maps": gates.gate_heatmaps,
    "gate_curves": gates.gate_curves,
    "conn": connectivity.connectivity_heatmap,
    "graph": graph.unrolled_graph,
    "cell": graph.cell_diagram,
    "decay": decay.unit_decay_figure,
    "units": units.unit_heatmap,
}
LONG_RUN_S = 8.0  # a pass estimated to take longer waits for the user's go-ahead
BIG_RUN_BYTES = 2e9  # and so does one estimated to need more memory than this
MEMORY_SHARE = 0.5  # a pass estimated to need more than this share of the machine's memory is refused


def conn_reduced(cfg: engine.Config) -> bool:
    """True when connectivity is computed on a subset of rows and sequences to stay fast."""
    return cfg.seq_len > CONN_AUTO_T


def estimate(cfg: engine.Config, conn: bool | str = False, train_steps: int = 0, every: int = 1) -> tuple[float, float]:
    """(seconds, bytes) on one CPU thread of what trace_for(cfg, conn) computes, or of a whole training (engine/cost.py).

    Counts the eig + SVD of every H x H block (H^3), connectivity's T^2 / 2 row-steps (on the
    subset trace_for uses for long sequences) and, with train_steps, every step and snapshot;
    in seconds of this server once its calibration has run (calibrate_in_background).
    """
    subset = dict(conn_rows=pick_indices(cfg.seq_len, CONN_ROWS), conn_batch=CONN_BATCH) if conn and conn_reduced(cfg) else {}
    seconds, nbytes = cost.estimate(cfg, connectivity=conn, train_steps=train_steps, every=every, **subset)
    return seconds, nbytes


def calibrate_in_background() -> None:
    """Measure this server's speed once per process, beside the pages, never before one (the fitted figures serve meanwhile)."""
    calibration.SERVER.start()


def estimate_source() -> str:
    """Where the page's estimated seconds come from, in words to show beside them."""
    if cost.HOST.calibrated:
        return "estimated on this server"
    return "estimated from the developers' machine: this server is still measuring its own speed"


def affordable(cfg: engine.Config) -> bool:
    """True when a pass fits the page's budget without asking (time and memory)."""
    seconds, nbytes = estimate(cfg)
    return on_device(cfg) or (seconds <= LONG_RUN_S and nbytes <= BIG_RUN_BYTES)


def on_device(cfg: engine.Config) -> bool:
    """True when the engine computes on a GPU, where the CPU estimates above do not apply."""
    return resolve_device(cfg.device) != "cpu"


def machine_memory() -> float:
    """Physical memory in bytes (infinite where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return float("inf")


@functools.cache
def cache() -> ByteLRU:
    """Traces, figures and JSON of every session in this process, at most RNNLAB_CACHE_MB (read when first asked)."""
    return ByteLRU(cache_bytes())


OWN_CACHE = "_own_cache"  # session_state: this session's cache for runs on its own data
OWN_CACHE_BYTES = 64 * 2**20


def store(cfg: engine.Config) -> tuple[ByteLRU, tuple]:
    """(cache, key suffix): the shared cache, or for a run on your own data this session's own, keyed by the data's sha256.

    Whatever is made from uploaded or pasted data (its traces, figures, JSON) holds that data, so it
    never enters the cache every session of the process shares (ui/page/own_data.py).
    """
    digest = own_data.digest(cfg)
    if digest is None:
        return cache(), ()
    own = st.session_state.get(OWN_CACHE)
    if own is None:
        own = st.session_state[OWN_CACHE] = ByteLRU(OWN_CACHE_BYTES)
    return own, (digest,)


class QueueNote:
    """Says on the page, while a pass waits for a free slot, where it stands in line; gone once it starts."""

    def __init__(self):
        self.slot = None

    def __call__(self, position: int) -> None:
        if position and self.slot is None:
            self.slot = st.empty()
        if self.slot is not None:
            if position:
                self.slot.info(admission.queued_note(position), icon=":material/hourglass_top:")
            else:
                self.slot.empty()


def trace_for(cfg: engine.Config, conn: bool | str) -> engine.Trace:
    """One forward + BPTT pass; with conn, the connectivity d loss_t / d x_k as well ("full": ignoring truncation)."""
    where, mine = store(cfg)
    data = own_data.current(cfg)
    return where.get_or_compute(("trace", cfg, conn, *mine), lambda: _run(cfg, conn, data))


def with_terms(cfg: engine.Config) -> engine.Trace:
    """The pass's Trace with trace.backward, the parts of each step back: asked for only by the formula view and the animation.

    run() leaves them out (they cost a third of an LSTM pass); engine.step_terms computes them on their own,
    cached per Config beside the trace, the same numbers as engine.run(cfg, terms=True).backward.
    """
    where, mine = store(cfg)
    data = own_data.current(cfg)
    terms = where.get_or_compute(("terms", cfg, *mine), lambda: _run(cfg, "terms", data))
    return dataclasses.replace(trace_for(cfg, False), backward=terms)


def _run(cfg: engine.Config, conn: bool | str, data=None) -> engine.Trace:
    """The pass itself, in one of the process's job slots (it waits in line when all are taken); data: your own (own_data)."""
    seconds, nbytes = estimate(cfg, conn if conn != "terms" else False)  # the terms: one pass and a step-back sweep, ~ a run
    gone = SessionGone(script_session_id())  # a session that ends leaves the line, or ends its connectivity at the next step back
    slot = admission.jobs().slot(seconds, on_wait=QueueNote(), stop=gone, nbytes=nbytes)
    with slot, cancel.scope(gone), st.spinner("Forward pass and BPTT ..."):
        if conn == "terms":
            return engine.step_terms(cfg, data=data)
        if not conn:
            return engine.run(cfg, data=data)
        subset = dict(conn_rows=pick_indices(cfg.seq_len, CONN_ROWS), conn_batch=CONN_BATCH) if conn_reduced(cfg) else {}
        return engine.run(cfg, connectivity=True, conn_full=conn == "full", data=data, **subset)


def figure_key(view: str, cfg: engine.Config, conn: bool | str = False, **options) -> tuple[ByteLRU, tuple]:
    """(the cache that keeps this figure, its key there): charts.chart keeps the figure's JSON beside it."""
    where, mine = store(cfg)
    return where, ("figure", view, cfg, conn, tuple(sorted(options.items())), *mine)


def figure_dict(view: str, cfg: engine.Config, conn: bool | str, **options) -> dict:
    """A viz figure of the cached trace as a plain dict: built and validated once per (view, Config, options)."""
    where, key = figure_key(view, cfg, conn, **options)
    return where.get_or_compute(key, lambda: VIEWS[view](trace_for(cfg, conn), **options).to_dict())


def figure(view: str, cfg: engine.Config, conn: bool | str = False, **options) -> go.Figure:
    """The figure again without Plotly's re-validation (~25 ms a figure): it was validated when first built."""
    return theme.unvalidated_figure(figure_dict(view, cfg, conn, **options))


PHASE_VALUES = {"recurrent_scale": (0.5, 1.5), "forget_bias": (-2.0, 6.0)}  # the swept range of each axis
PHASE_POINTS = 41


def phase_axis(cfg: engine.Config) -> tuple[str, tuple]:
    """(the axis that teaches best for this cell, the values swept): forget bias for the LSTM, else the scale."""
    import numpy as np

    from engine.phase import default_axis

    axis = default_axis(cfg.cell)
    lo, hi = PHASE_VALUES[axis]
    return axis, tuple(float(v) for v in np.round(np.linspace(lo, hi, PHASE_POINTS), 10))


def phase_affordable(cfg: engine.Config) -> bool:
    """The phase job is about one pass per swept value, batched (~5x cheaper than separate passes)."""
    seconds, nbytes = estimate(cfg)
    return on_device(cfg) or (seconds * PHASE_POINTS / 5 <= LONG_RUN_S and nbytes * PHASE_POINTS <= BIG_RUN_BYTES)


def phase_record(cfg: engine.Config, axis: str, values: tuple):
    """engine.phase over the values, once per (Config, axis, values), in one of the process's job slots."""

    def compute():
        seconds, nbytes = estimate(cfg)
        seconds, nbytes = seconds * len(values) / 5, nbytes * len(values)  # one batched job: ~5x cheaper, every tape at once
        with admission.jobs().slot(seconds, QueueNote(), nbytes=nbytes), st.spinner("Phase diagram: all values as one batched job ..."):
            return engine.phase(cfg, list(values), axis)

    return cache().get_or_compute(("phase", cfg, axis, tuple(values)), compute)


def trace_csv(cfg: engine.Config) -> str:
    """The trace as CSV (one row per step), built only when someone downloads it."""
    from engine.export import trace_csv

    where, mine = store(cfg)
    return where.get_or_compute(("csv", cfg, *mine), lambda: trace_csv(trace_for(cfg, False)))


_checks: dict = {}  # Config -> Future of its Verdict: the trust badge is computed beside the page, not in its way
_check_pool = None
MAX_CHECKS = 256


def verdict(cfg: engine.Config):
    """The trust badge's Verdict for cfg if it is ready, else None (it is then being computed in the background).

    engine.check.verify recomputes the run's first sequences with torch autograd (10-50 ms at the
    defaults, more for big settings): a control change shows its charts without waiting for it.
    """
    global _check_pool
    from concurrent.futures import ThreadPoolExecutor

    from engine.check import verify

    where, mine = store(cfg)
    if mine:  # your own data: checked here, in this session (the background checks are the process's, keyed by Config alone)
        return where.get_or_compute(("verdict", cfg, *mine), lambda: verify(cfg, data=own_data.current(cfg)))
    future = _checks.get(cfg)
    if future is None:
        if _check_pool is None:
            _check_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trust-badge")
        if len(_checks) >= MAX_CHECKS:
            _checks.pop(next(iter(_checks)))
        future = _checks[cfg] = _check_pool.submit(verify, cfg)
    return future.result() if future.done() else None


def trace_json(cfg: engine.Config) -> str:
    """The trace as strict JSON, built only when someone downloads it."""
    where, mine = store(cfg)
    return where.get_or_compute(("json", cfg, *mine), lambda: engine.to_json(trace_for(cfg, False)))

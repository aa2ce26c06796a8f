"""Cached engine calls and figures keyed by the (frozen, hashable) Config, so a rerun or a return to a setting is cheap."""

from __future__ import annotations

import os

import plotly.graph_objects as go
import streamlit as st

import engine
from engine.backend import resolve_device
from engine.cells import get_cell
from viz import connectivity, decay, gates, gradients, graph, units
from viz.downsample import pick_indices

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


def estimate(cfg: engine.Config) -> tuple[float, float]:
    """Rough (seconds, bytes) of one forward + BPTT pass on the CPU, from the cell's own cost per step.

    Fitted to runs on the 2-core dev machine: ~1.2 GFLOP/s of small GEMMs and ~25 ns per
    stored element; the tape keeps about twice what one step touches.
    """
    itemsize = 8 if cfg.dtype == "float64" else 4
    per = get_cell(cfg.cell, cfg.activation).cost(cfg.hidden_size, cfg.batch_size, engine.TASKS[cfg.task].input_size, itemsize)
    seconds = cfg.seq_len * (per.flops * 8e-11 + per.bytes / itemsize * 2.5e-8)
    return seconds, 2.25 * cfg.seq_len * per.bytes


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


@st.cache_data(max_entries=24, show_spinner="Forward pass and BPTT ...")
def trace_for(cfg: engine.Config, conn: bool | str) -> engine.Trace:
    """One forward + BPTT pass; with conn, the connectivity d loss_t / d x_k as well ("full": ignoring truncation)."""
    if not conn:
        return engine.run(cfg)
    subset = dict(conn_rows=pick_indices(cfg.seq_len, CONN_ROWS), conn_batch=CONN_BATCH) if conn_reduced(cfg) else {}
    return engine.run(cfg, connectivity=True, conn_full=conn == "full", **subset)


@st.cache_data(max_entries=96, show_spinner=False)
def figure_dict(view: str, cfg: engine.Config, conn: bool | str, **options) -> dict:
    """A viz figure of the cached trace as a plain dict: built and validated once per (view, Config, options)."""
    return VIEWS[view](trace_for(cfg, conn), **options).to_dict()


def figure(view: str, cfg: engine.Config, conn: bool | str = False, **options) -> go.Figure:
    """The figure again without Plotly's re-validation (~25 ms a figure): it was validated when first built."""
    spec = figure_dict(view, cfg, conn, **options)
    try:
        return go.Figure(spec, _validate=False)
    except TypeError:  # a Plotly without the private switch: validate again, slower but the same figure
        return go.Figure(spec)


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


@st.cache_data(max_entries=16, show_spinner="Phase diagram: all values as one batched job ...")
def phase_record(cfg: engine.Config, axis: str, values: tuple):
    """engine.phase over the values, once per (Config, axis, values)."""
    return engine.phase(cfg, list(values), axis)


@st.cache_data(max_entries=8, show_spinner=False)
def trace_csv(cfg: engine.Config) -> str:
    """The trace as CSV (one row per step), built only when someone downloads it."""
    from engine.export import trace_csv

    return trace_csv(trace_for(cfg, False))


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

    future = _checks.get(cfg)
    if future is None:
        if _check_pool is None:
            _check_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trust-badge")
        if len(_checks) >= MAX_CHECKS:
            _checks.pop(next(iter(_checks)))
        future = _checks[cfg] = _check_pool.submit(verify, cfg)
    return future.result() if future.done() else None


@st.cache_data(max_entries=8, show_spinner=False)
def trace_json(cfg: engine.Config) -> str:
    """The trace as strict JSON, built only when someone downloads it."""
    return engine.to_json(trace_for(cfg, False))

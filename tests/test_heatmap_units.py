"""Every heatmap's values and its colour scale speak one unit, for every cell and both precisions.

A heatmap goes wrong quietly when its z values are log10 and its colour range or colour-bar
ticks are raw (or the other way round) for one cell type only: the picture still draws. So
for each cell of the registry and each dtype, every heatmap built from a real run is read
back and checked against the record it draws: z is log10 of the record (or the record
itself for gates and shares), every finite z lies inside the colour range, and decade ticks
sit at whole powers of ten labelled as such. Closed forms pin the units where they are
known (W = s·I: the connectivity is s^(t−k) times its diagonal).
"""

import numpy as np
import pytest

from engine import Config, TrainingLog, phase, run, train
from engine.cells import CELLS
from viz.connectivity import connectivity_heatmap
from viz.decay import num
from viz.diagonal_cell import diagonal_cell_diagram, unit_factors
from viz.gates import gate_heatmaps
from viz.graph import unrolled_graph
from viz.phase import decade, phase_heatmap
from viz.training import grad_heatmap
from viz.training_gates import gate_dashboard
from viz.units import decade_label, unit_heatmap

DTYPES = ("float32", "float64")
SMALL = dict(seq_len=24, hidden_size=5, batch_size=3, task="first")


@pytest.fixture(scope="module")
def traces():
    return {(cell, dtype): run(Config(cell=cell, dtype=dtype, **SMALL), connectivity=True) for cell in CELLS for dtype in DTYPES}


CASES = [(cell, dtype) for cell in CELLS for dtype in DTYPES]


def values(z) -> np.ndarray:
    return np.asarray(z, dtype=np.float64)


def assert_log10_of(z, record, rtol):
    """z holds log10 of record where record is positive and finite, a gap (NaN) elsewhere."""
    z, record = values(z), np.asarray(record, dtype=np.float64)
    good = np.isfinite(record) & (record > 0)
    assert np.all(np.isnan(z[~good]))
    np.testing.assert_allclose(10.0 ** z[good], record[good], rtol=rtol)


def assert_decade_ticks(bar, z):
    """Colour-bar ticks at whole decades of z's own range, labelled 10^k: the ticks are in z's units."""
    ks = list(bar.tickvals)
    finite = values(z)[np.isfinite(values(z))]
    assert ks and all(float(k).is_integer() for k in ks)
    assert min(ks) >= np.floor(finite.min()) - 1 and max(ks) <= np.ceil(finite.max()) + 1
    assert any(finite.min() - 1 <= k <= finite.max() + 1 for k in ks)


@pytest.mark.parametrize("cell,dtype", CASES)
def test_units_heatmap_is_log10_of_each_units_gradient_with_decade_ticks(traces, cell, dtype):
    tr = traces[cell, dtype]
    fig = unit_heatmap(tr)
    heat = fig.data[0]
    assert_log10_of(heat.z, tr.grad_h_units.T, rtol=1e-5)
    assert_decade_ticks(heat.colorbar, heat.z)
    assert list(heat.colorbar.ticktext) == [decade_label(k) for k in heat.colorbar.tickvals]
    assert heat.zmin is None and heat.zmax is None  # the range is z's own: never raw numbers beside log10 cells
    assert "10^%{z" in heat.hovertemplate and "(log scale)" in heat.colorbar.title.text


@pytest.mark.parametrize("cell", list(CELLS))
def test_one_sequences_units_add_up_to_its_gradient_norm(cell):
    """B = 1: Σ_i (10^z_ti)² = ‖∂L/∂h_t‖², complex units (LRU) counted by their modulus: the cells are the curve's units."""
    for dtype in DTYPES:
        tr = run(Config(cell=cell, dtype=dtype, **{**SMALL, "batch_size": 1}))
        z = values(unit_heatmap(tr).data[0].z)  # (H, T)
        with np.errstate(invalid="ignore"):
            total = np.sqrt(np.nansum((10.0**z) ** 2, axis=0))
        np.testing.assert_allclose(total, tr.grad_h, rtol=1e-5)


@pytest.mark.parametrize("cell,dtype", CASES)
@pytest.mark.parametrize("which", ["x", "h"])
def test_connectivity_is_log10_of_the_record_on_the_causal_cells(traces, cell, dtype, which):
    tr = traces[cell, dtype]
    heat = connectivity_heatmap(tr, which).data[0]
    conn = getattr(tr, f"conn_{which}")
    causal = np.tril(np.ones_like(conn, dtype=bool))
    assert_log10_of(values(heat.z)[causal], conn[causal], rtol=1e-5)
    assert np.all(np.isnan(values(heat.z)[~causal]))
    assert heat.zmin is None and heat.zmax is None and heat.colorbar.title.text.startswith("log₁₀ ")
    assert "log₁₀ " in heat.hovertemplate


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", ["x", "h"])
def test_connectivity_of_a_scaled_identity_is_s_to_the_t_minus_k(dtype, which):
    """W = 0.3·I, linear: conn[t, k] = 0.3^(t−k) conn[t, t]; in float64 down to ~1e-180, where squared norms underflow."""
    T = 360 if dtype == "float64" else 60
    cfg = Config(activation="linear", init="identity", recurrent_scale=0.3, seq_len=T, hidden_size=3, batch_size=2, dtype=dtype)
    tr = run(cfg.replace(task="sine"), connectivity=True)
    conn = getattr(tr, f"conn_{which}")
    t, k = np.tril_indices(T)
    want = np.diag(conn)[t] * 0.3 ** (t - k).astype(np.float64)
    assert want.min() < 1e-170 if dtype == "float64" else True
    np.testing.assert_allclose(conn[t, k], want, rtol=1e-5 if dtype == "float32" else 1e-9)
    z = values(connectivity_heatmap(tr, which).data[0].z)
    np.testing.assert_allclose(z[t, k], np.log10(want), atol=1e-4)


def gate_range(cell: str, name: str) -> tuple[float, float] | None:
    """The fixed range of a gate's values as its cell declares it: sigmoid 0..1, tanh -1..1; None for a state without one."""
    gate = CELLS[cell].gates.get(name)
    return None if gate is None else {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}[gate.activation]


@pytest.mark.parametrize("cell,dtype", CASES)
def test_gate_heatmaps_are_raw_values_inside_their_colour_range(traces, cell, dtype):
    tr = traces[cell, dtype]
    fig = gate_heatmaps(tr)
    heats = [d for d in fig.data if d.type == "heatmap"]
    panels = tr.gates or {"h": np.real(np.asarray(tr.hidden))}
    assert len(heats) == len(panels)
    for heat, (name, record) in zip(heats, panels.items(), strict=True):
        np.testing.assert_allclose(values(heat.z), np.asarray(record, dtype=np.float64).T, rtol=1e-6, atol=1e-7)  # raw: no log
        axis = fig.layout[heat.coloraxis]
        z = values(heat.z)
        assert axis.cmin <= np.nanmin(z) and np.nanmax(z) <= axis.cmax, (name, axis.cmin, axis.cmax)
        fixed = gate_range(cell, name)
        if fixed is not None:
            assert (axis.cmin, axis.cmax) == fixed, name
        if tr.gates:
            assert "log" not in axis.colorbar.title.text


def training_log(cell, dtype):
    log = TrainingLog()
    for snap in train(Config(cell=cell, dtype=dtype, **SMALL), steps=3, every=1):
        log.add(snap)
    return log


@pytest.fixture(scope="module")
def logs():
    return {(cell, dtype): training_log(cell, dtype) for cell in CELLS for dtype in DTYPES}


@pytest.mark.parametrize("cell,dtype", CASES)
def test_training_heatmap_is_log10_of_each_snapshots_gradient(logs, cell, dtype):
    log = logs[cell, dtype]
    heat = grad_heatmap(log).data[0]
    assert_log10_of(heat.z, log.grad_matrix(), rtol=1e-5)
    assert heat.zmin is None and heat.zmax is None and heat.colorbar.title.text.startswith("log₁₀")


@pytest.mark.parametrize("cell,dtype", CASES)
def test_training_gate_heatmap_shares_its_units_with_its_range(logs, cell, dtype):
    log = logs[cell, dtype]
    fig = gate_dashboard(log)
    heats = [d for d in fig.data if d.type == "heatmap"]
    if log.gate is None:  # a cell with no gate and no phi (the LRU) records neither gates nor saturation
        assert not heats and not CELLS[cell].gates and not CELLS[cell].uses_activation
        return
    heat = heats[0]
    z = values(heat.z)
    m = log.gate_matrix()
    if log.gate == "flat":  # a share of units: drawn in %, ranged 0..100 %
        np.testing.assert_allclose(z, m * 100, rtol=1e-6)
        assert (heat.zmin, heat.zmax) == (0.0, 100.0) and heat.colorbar.title.text == "% flat"
    else:
        np.testing.assert_allclose(z, m, rtol=1e-6)
        assert (heat.zmin, heat.zmax) == gate_range(cell, log.gate)
    assert heat.zmin <= np.nanmin(z) and np.nanmax(z) <= heat.zmax


@pytest.mark.parametrize("cell,dtype", CASES)
def test_phase_heatmap_range_and_ticks_are_in_log10_ratio(cell, dtype):
    record = phase(Config(cell=cell, dtype=dtype, seq_len=20, hidden_size=3, batch_size=2), [0.5, 0.9, 1.2])
    heat = phase_heatmap(record).data[0]
    z = values(heat.z)
    np.testing.assert_array_equal(z[np.isfinite(z)], record.log_ratio.T[np.isfinite(record.log_ratio.T)])
    finite = z[np.isfinite(z)]
    assert heat.zmin == min(finite.min(), -1e-9) and heat.zmax == max(finite.max(), 1e-9)
    assert all(heat.zmin <= v <= heat.zmax for v in heat.colorbar.tickvals) or list(heat.colorbar.tickvals) == [0]
    assert list(heat.colorbar.ticktext) == [decade(v) for v in heat.colorbar.tickvals]
    white = [c for c in heat.colorscale if c[1] == "#f7f7f7"]
    assert len(white) == 1 and white[0][0] == pytest.approx(-heat.zmin / (heat.zmax - heat.zmin))  # ratio 1 sits at z = 0


@pytest.mark.parametrize("cell,dtype", CASES)
def test_unrolled_graph_colours_h_nodes_by_log10_gradient_inside_the_colour_range(traces, cell, dtype):
    tr = traces[cell, dtype]
    fig = unrolled_graph(tr)
    (nodes,) = [d for d in fig.data if d.name == "hₜ: ‖∂L/∂hₜ‖"]
    color = values(nodes.marker.color)
    np.testing.assert_allclose(10.0**color, tr.grad_h[np.asarray(nodes.x)], rtol=1e-9)
    assert nodes.marker.cmin <= color.min() and color.max() <= nodes.marker.cmax
    assert nodes.marker.colorbar.title.text.startswith("log₁₀")


@pytest.mark.parametrize("cell", ["indrnn", "lru"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_diagonal_cell_box_states_the_factors_in_their_own_units(cell, dtype):
    tr = run(Config(cell=cell, dtype=dtype, init="normal", recurrent_scale=0.95, **SMALL))
    step = 10
    factors, _ = unit_factors(tr, step)
    if cell == "lru":
        np.testing.assert_array_equal(factors, tr.unit_decay)  # |λᵢ|: no φ between steps
    else:
        np.testing.assert_allclose(factors, tr.unit_decay * (1 - tr.hidden[step] ** 2), rtol=1e-12)  # |uᵢ|·tanh′
    ok = np.sort(factors)
    text = " ".join(a.text for a in diagonal_cell_diagram(tr, step).layout.annotations)
    assert f"min {num(ok[0])}, median {num(ok[(len(ok) - 1) // 2])}, max {num(ok[-1])}" in text
    assert f"= {float(tr.grad_h[step]):.4g}" in text

"""The phase-diagram figure draws the record's numbers: cells, hover, contours, the theory line, the current value, overflow."""

import numpy as np
import pytest

from engine import Config, phase
from viz.phase import CONTOUR, decade, nearest_value, phase_cells, phase_heatmap


@pytest.fixture(scope="module")
def rnn():
    return phase(Config(seq_len=60, hidden_size=8, batch_size=4), np.linspace(0.5, 1.5, 11))


@pytest.fixture(scope="module")
def exploding():
    """A linear RNN up to scale 4: its gradient overflows float32 at the large scales."""
    return phase(Config(activation="linear", seq_len=70, hidden_size=4, batch_size=2), np.linspace(0.5, 4.0, 8))


def _by_name(fig, name):
    hits = [d for d in fig.data if d.name == name]
    assert len(hits) == 1, [d.name for d in fig.data]
    return hits[0]


def _texts(fig) -> str:
    return "\n".join(a.text for a in fig.layout.annotations)


def test_heatmap_cells_are_the_record(rnn):
    fig = phase_heatmap(rnn)
    heat = fig.data[0]
    np.testing.assert_array_equal(heat.x, rnn.scales)
    np.testing.assert_array_equal(heat.y, rnn.distance)
    z = np.asarray(heat.z, dtype=np.float64)
    finite = np.isfinite(rnn.log_ratio.T)
    np.testing.assert_array_equal(z[finite], rnn.log_ratio.T[finite])
    assert np.all(np.isnan(z[~finite]))
    custom = np.asarray(heat.customdata, dtype=np.float64)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(custom[..., 0], (rnn.grad_h[:, ::-1] / rnn.grad_h[:, -1:]).T, rtol=1e-12)
    np.testing.assert_array_equal(custom[..., 1], rnn.grad_h[:, ::-1].T)
    assert "customdata[0]:.3e" in heat.hovertemplate and "log₁₀ ratio = %{z:.3f}" in heat.hovertemplate
    assert heat.zmin == pytest.approx(np.min(rnn.log_ratio[np.isfinite(rnn.log_ratio)]))
    assert heat.colorbar.ticktext[-1] in {decade(v) for v in heat.colorbar.tickvals}


def test_contours_at_one_thousandth_and_a_thousand(rnn):
    contour = _by_name(phase_heatmap(rnn), f"ratio {decade(-CONTOUR)} and {decade(CONTOUR)}")
    assert (contour.contours.start, contour.contours.end, contour.contours.size) == (-3, 3, 6)
    np.testing.assert_array_equal(
        np.asarray(contour.z, dtype=np.float64)[np.isfinite(rnn.log_ratio.T)], rnn.log_ratio.T[np.isfinite(rnn.log_ratio.T)]
    )


def test_theory_line_and_current_value(rnn):
    fig = phase_heatmap(rnn, current=0.8)
    xs = sorted(s.x0 for s in fig.layout.shapes if s.type == "line")
    assert xs == [0.8, rnn.boundary] == [0.8, 1.0]
    text = _texts(fig)
    assert "γ·σ_max = 1: scale 1 = 1/γ (γ = 1)" in text and "current recurrent scale 0.8" in text
    assert any(s.x0 == 1.0 for s in phase_heatmap(rnn).layout.shapes if s.line.dash == "dash")  # default: the config's own scale


def test_boundary_outside_the_range_is_said():
    record = phase(Config(activation="sigmoid", seq_len=10, hidden_size=4, batch_size=2), [0.5, 1.0, 2.0])
    fig = phase_heatmap(record)
    assert record.boundary == pytest.approx(4.0)
    assert "scale 4 = 1/γ (γ = 0.25), outside the scales shown" in _texts(fig)
    assert [s.x0 for s in fig.layout.shapes] == [1.0]  # only the current value


def test_overflow_is_marked_and_explained(exploding):
    fig = phase_heatmap(exploding)
    over = exploding.overflow
    assert over.any() and not over.all()
    marks = _by_name(fig, "overflow at this value")
    np.testing.assert_array_equal(marks.x, exploding.scales[over])
    red = _by_name(fig, "non-finite (overflow)")
    bad = np.isnan(exploding.log_ratio.T) | np.isposinf(exploding.log_ratio.T)
    np.testing.assert_array_equal(np.isfinite(np.asarray(red.z, dtype=np.float64)), bad)
    text = _texts(fig)
    assert f"Overflow ({int(over.sum())} of 8 values" in text and "exceeded float32" in text and "γ·σ_max up to" in text
    first = int(np.flatnonzero(over)[0])
    back = int(exploding.overflow_grad_step[first])
    assert f"the gradient from t = {back} back (k ≥ {69 - back})" in text


def test_exactly_zero_cells_are_grey_and_said():
    record = phase(Config(cell="lstm", task="first", seq_len=24, truncation=10, hidden_size=4, batch_size=2), [0.8, 1.5])
    fig = phase_heatmap(record)
    grey = _by_name(fig, "exactly 0")
    np.testing.assert_array_equal(np.isfinite(np.asarray(grey.z, dtype=np.float64)), np.isneginf(record.log_ratio.T))
    assert "exactly 0 there (underflow, or beyond the truncation horizon): 40 of 48" in _texts(fig)


def test_forget_bias_axis_has_no_theory_line_and_says_why():
    record = phase(Config(cell="lstm", seq_len=20, hidden_size=4, batch_size=2, forget_bias=1.0), [-1.0, 1.0, 3.0], axis="forget_bias")
    fig = phase_heatmap(record)
    assert fig.layout.xaxis.title.text == "forget-gate bias b_f"
    assert "no γ·σ_max line: the forget gate" in _texts(fig) and "current forget-gate bias b_f 1" in _texts(fig)
    assert [s.x0 for s in fig.layout.shapes] == [1.0]


def test_long_sequences_show_exact_rows():
    record = phase(Config(seq_len=900, hidden_size=2, batch_size=1), [0.9, 1.0])
    cells = phase_cells(record)
    assert len(cells["k"]) <= 400 and cells["k"][0] == 0 and cells["k"][-1] == 899
    np.testing.assert_array_equal(cells["z"], record.log_ratio[:, cells["k"]].T)
    assert "showing" in phase_heatmap(record).layout.yaxis.title.text


def test_nearest_value_snaps_a_click(rnn):
    assert nearest_value(rnn, 0.93) == pytest.approx(0.9)
    assert nearest_value(rnn, 9.0) == pytest.approx(1.5)


def test_decade_labels():
    assert [decade(k) for k in (-12, 0, 3)] == ["10⁻¹²", "10⁰", "10³"]

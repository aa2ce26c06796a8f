"""Compare presets teach what the cell does: the LSTM comes with its gate path open, the chart says why, h and c differ."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine import Config, run
from ui.page import compare
from viz.gradients import compared_words, grad_norm_curve
from viz.theme import COLORS

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(seq_len=50, hidden_size=16, batch_size=8)


def _lstm_preset(cfg: Config) -> tuple[str, dict]:
    (preset,) = [p for p in compare.presets(cfg) if p[1].get("cell") == "lstm"]
    return preset


def test_the_lstm_preset_opens_the_gate_path_and_keeps_more_gradient_than_bias_0():
    """Forget bias 2 keeps f near 0.88 (bias 0: 0.5), so its fitted factor per step beats the bias-0 LSTM's on every seed."""
    cfg = Config(**SMALL)
    text, change = _lstm_preset(cfg)
    assert change == {"cell": "lstm", "forget_bias": compare.LSTM_BIAS} == {"cell": "lstm", "forget_bias": 2.0} and "forget bias 2" in text
    for seed in range(3):
        other, _ = compare.other_config(cfg.replace(seed=seed), change)
        opened, closed = run(other), run(other.replace(forget_bias=0.0))
        assert other.forget_bias == 2.0 and other.cell == "lstm"
        assert 0.8 < float(opened.gates["f"].mean()) < 0.95 and 0.4 < float(closed.gates["f"].mean()) < 0.6
        assert opened.decay_factor > closed.decay_factor


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 17, 31, 42])
def test_the_lstm_preset_keeps_more_gradient_than_the_rnn_of_the_default_page(seed):
    """What the button teaches, on the page a class opens first: the LSTM loses less per step than the RNN (all 50 seeds 0-49
    held when LSTM_BIAS was chosen; at bias 1 only 13 did). A preset that shows the opposite of the lesson fails here."""
    cfg = Config(seed=seed)
    other, _ = compare.other_config(cfg, _lstm_preset(cfg)[1])
    assert run(other).decay_factor > run(cfg).decay_factor


def test_an_lstm_page_compares_its_own_forget_bias():
    assert compare.presets(Config(cell="lstm"))[0] == ("forget bias 0 → 2", {"forget_bias": 2.0})
    assert compare.presets(Config(cell="lstm", forget_bias=2.0))[0] == ("forget bias 2 → 0", {"forget_bias": 0.0})


def test_only_the_comparison_on_screen_is_active():
    change = {"cell": "lstm", "forget_bias": 1.0}
    assert compare.is_active(change, dict(change))
    assert not compare.is_active(change, {"cell": "lstm"})  # the bare link vs.cell=lstm is another comparison
    assert not compare.is_active({}, {})


@pytest.mark.parametrize("bias", [0.0, 1.0])
def test_the_chart_writes_the_reason_and_draws_h_and_c_apart(bias):
    cfg = Config(**SMALL)
    other = compare.other_config(cfg, {"cell": "lstm", "forget_bias": bias})[0]
    theirs = run(other)
    label = compare.label(cfg, other)
    fig = grad_norm_curve(run(cfg), compare=(theirs, label))
    h = next(d for d in fig.data if d.name == f"‖∂L/∂hₜ‖ ({label}), dashed")
    c = next(d for d in fig.data if d.name == f"‖∂L/∂cₜ‖ cell state ({label}), dotted")
    assert (h.line.color, h.line.dash) == (COLORS["compare"], "dash") and (c.line.color, c.line.dash) == (COLORS["compare_c"], "dot")
    assert np.allclose(np.asarray(h.y, float), theirs.grad_h) and np.allclose(np.asarray(c.y, float), theirs.grad_c)
    words = compared_words(theirs, label)
    f = float(theirs.gates["f"].mean())
    assert f"keeps the forget gate f = {f:.2f} per step on average (forget bias {bias:g})" in words
    assert f"factor per step (fitted) ×{theirs.decay_factor:.2f}" in words and "end-to-end ratio ‖∂L/∂h₀‖ / ‖∂L/∂h₄₉‖" in words
    assert ("at bias 0, f ≈ 0.5" in words) == (bias == 0.0)
    notes = " ".join(a.text.replace("<br>", " ") for a in fig.layout.annotations)
    assert " ".join(words.split()) in notes


SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from ui.page import compare, controls
settings = controls.sidebar()
compare.panel(settings.config)
"""


def test_the_active_preset_button_says_so():
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.session_state["compare_open"] = True
    at.run()
    text, change = _lstm_preset(Config())
    key = f"compare_{text}"
    assert at.button(key=key).proto.type == "secondary" and not at.button(key=key).label.startswith("✓")
    at.button(key=key).click().run()
    assert not at.exception and at.session_state[compare.KEY] == change
    active = at.button(key=key)
    assert active.proto.type == "primary" and active.label == f"✓ {text}"
    others = [b for b in at.button if (b.key or "").startswith("compare_") and b.key not in (key, "compare_clear")]
    assert others and all(b.proto.type == "secondary" and not b.label.startswith("✓") for b in others)

"""The trust badge: engine.check.verify agrees with autograd on every cell and catches a corrupted backward."""

import numpy as np
import pytest
import torch
from reference import equation_pass

from engine import Config
from engine.cells import CELLS, get_cell
from engine.check import autograd_dh, chosen_blocks, sub_batch_of, verify
from engine.model import Model


@pytest.mark.parametrize("cell", list(CELLS))
def test_every_cell_checks_ok_at_its_defaults(cell):
    verdict = verify(Config(cell=cell))
    assert verdict.ok, verdict.text
    assert 0 <= verdict.max_rel_error <= 1e-4
    assert verdict.text.startswith("checked against autograd in float64: max rel. error")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(cell="lstm", task="copy", truncation=7),
        dict(cell="gru", task="sine", k1=3, k2=10),
        dict(cell="lru", recurrent_scale=0.99, init="identity", seq_len=80),
        dict(cell="indrnn", activation="relu", init="identity", recurrent_scale=1.02),
    ],
)
def test_float64_runs_agree_to_rounding(kwargs):
    verdict = verify(Config(dtype="float64", **kwargs), sub_batch=3)
    assert verdict.ok and verdict.max_rel_error < 1e-12, verdict.text


def test_the_reference_is_autograd_of_the_equations():
    """The check's own reference equals tests/reference.py's autograd of each cell written from its equations."""
    for cell in CELLS:
        cfg = Config(cell=cell, seq_len=12, hidden_size=4, batch_size=3, dtype="float64", task="sine")
        model = Model(cfg)
        batch = model.batch(0)
        mine = autograd_dh(model, batch, cfg.truncation_blocks())
        torch.testing.assert_close(mine, equation_pass(model, batch)[2], rtol=1e-10, atol=1e-300)


def test_the_sub_batch_holds_the_shown_runs_sequences():
    cfg = Config(cell="lstm", batch_size=16, seq_len=30)
    model = Model(cfg)
    full = model.forward_backward(model.batch(0)).dh[:, :4]
    sub = model.forward_backward(sub_batch_of(model.batch(0), 4)).dh
    torch.testing.assert_close(sub, full, rtol=1e-5, atol=1e-30)


def test_a_corrupted_backward_is_caught(monkeypatch):
    from engine.cells.rnn import RNN

    honest = RNN.step_back

    def off_by_one_percent(self, P, cache, dstate, prev=True):
        back = honest(self, P, cache, dstate, prev)
        return back if back.dstate is None else back._replace(dstate=(back.dstate[0] * 1.01,))

    monkeypatch.setattr(RNN, "step_back", off_by_one_percent)
    verdict = verify(Config(seq_len=50))
    assert not verdict.ok
    assert verdict.max_rel_error > 0.1  # 1 % a step over 49 steps: about 1.01^49 - 1 = 0.63
    assert verdict.text.startswith("⚠") and "disagrees with torch autograd" in verdict.text


def test_an_overflowed_run_is_not_called_checked():
    """8^400 overflows float64 itself: the loss and every gradient value are non-finite, nothing is left to compare."""
    verdict = verify(Config(activation="linear", init="identity", recurrent_scale=8.0, seq_len=400))
    assert not verdict.ok and np.isnan(verdict.max_rel_error)
    assert verdict.text.startswith("not checked")


def test_gradients_beyond_float32_but_within_float64_are_checked():
    """8^200 ~ 4e180 fits float64: the finite gradients (up to ~1e300) are compared, only the infinite ones are left out."""
    verdict = verify(Config(activation="linear", init="identity", recurrent_scale=8.0, seq_len=200))
    assert verdict.ok and verdict.max_rel_error < 1e-12, verdict.text
    assert verdict.text.endswith("values beyond float64's range not compared")
    skipped = int(verdict.text.rsplit("; ", 1)[1].split()[0])
    assert 0 < skipped < 200 * 4


def test_overlapping_blocks_beyond_the_work_cap_check_the_latest_steps():
    cfg = Config(k1=1, k2=50, seq_len=200)
    blocks, first = chosen_blocks(cfg)
    assert first > 0 and all(end >= first for end, _, _ in blocks)
    assert sum(end - lo + 1 for end, lo, _ in blocks) <= 8 * 200
    verdict = verify(cfg)
    assert verdict.ok and f"time steps {first}-199" in verdict.text


@pytest.mark.parametrize("cell", ["rnn", "indrnn", "lru"])
def test_a_float32_run_far_past_saturation_or_overflow_is_not_a_false_alarm(cell):
    """float32 rounds saturated slopes to 0 and overflows at scale 4.4; the engine's code is still right: checked in float64."""
    verdict = verify(Config(cell=cell, hidden_size=12, batch_size=4, recurrent_scale=4.4))
    assert verdict.ok and verdict.max_rel_error < 1e-9, verdict.text


def recurrent_names(cell) -> list:
    """The parameters of the cell's declared recurrent products (the LRU's lambda is stored as log_mag and theta)."""
    names = [p.param for p in cell.products]
    return ["log_mag", "theta"] if "λ" in names else names


@pytest.mark.parametrize("cell", list(CELLS))
def test_a_doubled_recurrent_weight_gradient_is_caught(monkeypatch, cell):
    """dL/dh stays right, the recurrent parameters' gradient is twice the truth: the badge compares parameter gradients too."""
    cls = CELLS[cell]
    honest = cls.param_grads
    names = recurrent_names(get_cell(cell))

    def doubled(self, *args):
        grads = honest(self, *args)
        return {k: 2 * g if k in names else g for k, g in grads.items()}

    monkeypatch.setattr(cls, "param_grads", doubled)
    verdict = verify(Config(cell=cell, seq_len=30))
    assert not verdict.ok and verdict.max_rel_error > 0.5, verdict.text
    assert verdict.text.startswith("⚠") and any(f"in ∂L/∂{name} " in verdict.text for name in names)


def test_an_lru_output_with_the_wrong_sign_of_c_im_is_caught(monkeypatch):
    """y = Re(C h) written with +C_im in the forward and the backward alike: consistent with itself, wrong against the equations."""
    from engine.cells.lru import LRU

    features, features_back = LRU.features, LRU.features_back

    def flipped(P):
        return {**P, "C_im": -P["C_im"]}

    def wrong_features(self, P, hs, X):
        return features(self, flipped(P), hs, X)

    def wrong_back(self, P, dfeat, hs, X, steps):
        dh, grads = features_back(self, flipped(P), dfeat, hs, X, steps)
        return dh, {**grads, "C_im": -grads["C_im"]}

    cfg = Config(cell="lru", seq_len=30, task="sine")
    assert verify(cfg).ok
    monkeypatch.setattr(LRU, "features", wrong_features)
    monkeypatch.setattr(LRU, "features_back", wrong_back)
    verdict = verify(cfg)
    assert not verdict.ok and verdict.max_rel_error > 0.1, verdict.text
    assert verdict.text.startswith("⚠ the engine's gradient disagrees with torch autograd")


def test_the_badge_compares_every_parameter_gradient():
    verdict = verify(Config(cell="gru", seq_len=20))
    assert verdict.ok and f"∂L/∂h and {len(Model(Config(cell='gru')).params)} parameter gradients" in verdict.text

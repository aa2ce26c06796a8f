"""The trust badge: engine.check.verify agrees with autograd on every cell and catches a corrupted backward."""

import numpy as np
import pytest
import torch
from reference import equation_pass

from engine import Config
from engine.cells import CELLS
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
    for cell in ("rnn", "lstm", "gru", "indrnn", "lru"):
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

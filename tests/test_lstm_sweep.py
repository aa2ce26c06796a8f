"""The LSTM's in-place BPTT sweep (engine/cells/lstm_sweep.py) against the shared loop of engine/bptt.py, to the last bit.

The oracle is the shared loop (LSTM.step_back driven by bptt.walk), itself checked against torch
autograd in test_oracles.py and test_cells_vs_torch.py: the fast path must give the same sums,
element for element, and take over only where each step is visited once.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Config
from engine.bptt import forward_backward, sweep, visits_once
from engine.model import Model

SMALL = dict(cell="lstm", seq_len=23, hidden_size=6, batch_size=4, recurrent_scale=1.2, forget_bias=1.0)


def _pass(cfg: Config, fast: bool):
    model = Model(cfg)
    if not fast:
        model.cell.fast_sweep = None  # this instance only: the shared loop
    batch = model.batch(0)
    x, target = model.inputs(batch)
    with torch.no_grad():
        return forward_backward(
            model.cell, model.views, x, target, batch.loss_steps, batch.kind, cfg.truncation_blocks(), model.task.loss_at == "every"
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "task, trunc",
    [("adding", {}), ("sine", {}), ("copy", {}), ("sine", {"truncation": 5}), ("adding", {"truncation": 7}), ("sine", {"k1": 4, "k2": 9})],
)
def test_fast_sweep_equals_the_shared_loop(task, trunc, dtype):
    """dL/dh_t, dL/dc_t, the gate gradients, the last step's own curve and every parameter gradient: equal to the last bit."""
    cfg = Config(task=task, dtype=dtype, **SMALL, **trunc)
    fast, loop = _pass(cfg, True), _pass(cfg, False)
    for name in ("dh", "dc", "dah"):
        np.testing.assert_array_equal(getattr(fast, name).numpy(), getattr(loop, name).numpy(), err_msg=name)
    if loop.dh_last is not None:
        np.testing.assert_array_equal(fast.dh_last.numpy(), loop.dh_last.numpy())
    assert fast.grads.keys() == loop.grads.keys()
    for name, g in loop.grads.items():
        np.testing.assert_array_equal(fast.grads[name].numpy(), g.numpy(), err_msg=name)
    assert np.abs(loop.dh.numpy()).max() > 0  # something flowed


def test_the_fast_path_runs_exactly_where_each_step_is_visited_once(monkeypatch):
    """Full BPTT and truncation K take the fast path; TBPTT with k2 > k1 (overlapping blocks) takes the shared loop."""
    assert visits_once(Config(seq_len=20).truncation_blocks(), 20)
    assert visits_once(Config(seq_len=20, truncation=6).truncation_blocks(), 20)
    assert not visits_once(Config(seq_len=20, k1=4, k2=9).truncation_blocks(), 20)
    calls = []
    model = Model(Config(**SMALL))
    fast = model.cell.fast_sweep
    model.cell.fast_sweep = lambda *a: calls.append(1) or fast(*a)
    tape = model.cell.unroll(model.views, model.inputs(model.batch(0))[0])
    inject = {22: torch.ones(4, 6, dtype=tape.hs.dtype)}
    sweep(model.cell, model.views, tape, inject, [(22, 0, 0)])
    sweep(model.cell, model.views, tape, inject, Config(**SMALL, k1=4, k2=9).truncation_blocks())
    assert calls == [1]


def test_only_dh_asked_for_gives_the_same_dh():
    """pre=False (the last step's own curve of many-to-many tasks): scratch rows stand in for dL/dc_t and the gates."""
    model = Model(Config(**SMALL, task="sine"))
    tape = model.cell.unroll(model.views, model.inputs(model.batch(0))[0])
    g = torch.linspace(-1, 1, 24, dtype=tape.hs.dtype).reshape(4, 6)
    inject = {22: g, 10: -g}
    fast = sweep(model.cell, model.views, tape, inject, [(22, 0, 0)], pre=False)
    model.cell.fast_sweep = None
    loop = sweep(model.cell, model.views, tape, inject, [(22, 0, 0)], pre=False)
    np.testing.assert_array_equal(fast.dh.numpy(), loop.dh.numpy())
    assert fast.dinner is None and fast.dx is None

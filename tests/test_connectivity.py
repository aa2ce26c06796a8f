"""Connectivity (one batched backward) against one autograd backward per output step."""

import numpy as np
import pytest
import torch
from reference import equation_step, nn_cell

from engine import Config, run
from engine.cells import CELLS
from engine.model import Model


def autograd_connectivity(cfg):
    """conn[t][k] = batch mean of ||d loss_t^b / d x_k^b||, one autograd.grad call per row t."""
    model = Model(cfg)
    batch = model.batch(0)
    module = nn_cell(model)
    P = {k: v.detach().double() for k, v in model.params.items()}
    x = torch.as_tensor(batch.x).clone().requires_grad_(True)
    T, B, _ = x.shape
    h = torch.zeros(B, cfg.hidden_size, dtype=torch.float64)
    state = (h, h.clone()) if cfg.cell == "lstm" else h
    hs = []
    for t in range(T):
        state = module(x[t], state)
        hs.append(state[0] if cfg.cell == "lstm" else state)
    return rows_by_autograd(batch, P, x, hs, hs)


def rows_by_autograd(batch, P, x, hs, feats):
    """One autograd.grad per row t: batch means of ||d loss_t^b / d x_k^b|| and ||d loss_t^b / d h_k^b|| (a complex h: over Re and Im)."""
    T = len(hs)
    targets = torch.as_tensor(np.ascontiguousarray(batch.row_targets()))
    conn_x, conn_h = np.zeros((T, T)), np.zeros((T, T))
    for t in range(T):
        y = feats[t] @ P["head_weight"].T + P["head_bias"]
        if batch.kind == "mse":
            loss_b = ((y - targets[t]) ** 2).mean(-1)
        else:
            loss_b = torch.nn.functional.cross_entropy(y, targets[t].long(), reduction="none")
        grads = torch.autograd.grad(loss_b.sum(), [x] + hs[: t + 1], retain_graph=True)
        conn_x[t] = grads[0].norm(dim=-1).mean(-1).numpy()
        conn_h[t, : t + 1] = [g.norm(dim=-1).mean().item() for g in grads[1:]]
    return conn_x, conn_h


def equation_connectivity(cfg):
    """The same oracle for any registered cell: autograd of the cell written from its equations (tests/reference.py)."""
    model = Model(cfg)
    batch = model.batch(0)
    P = {k: v.detach().double() for k, v in model.params.items()}
    x = torch.as_tensor(batch.x).clone().requires_grad_(True)
    T, B, _ = x.shape
    h = torch.zeros(B, cfg.hidden_size, dtype=torch.complex128 if model.cell.complex_state else torch.float64)
    state = (h, torch.zeros(B, cfg.hidden_size, dtype=torch.float64))[: len(model.cell.state_names)]
    hs, feats = [], []
    for t in range(T):
        state, feat = equation_step(cfg, P, x[t], state)
        hs.append(state[0])
        feats.append(feat)
    return rows_by_autograd(batch, P, x, hs, feats)


CASES = [
    *(("torch.nn", cell, task) for cell, task in [("rnn", "adding"), ("lstm", "copy"), ("gru", "sine"), ("lstm", "first")]),
    *(("equations", cell, task) for cell in CELLS for task in ("adding", "sine")),  # every registered cell
]


@pytest.mark.parametrize("oracle,cell,task", CASES)
def test_connectivity_matches_autograd(oracle, cell, task):
    cfg = Config(cell=cell, task=task, seq_len=10, hidden_size=6, batch_size=3, dtype="float64")
    trace = run(cfg, connectivity=True)
    ref_x, ref_h = (autograd_connectivity if oracle == "torch.nn" else equation_connectivity)(cfg)
    np.testing.assert_allclose(trace.conn_x, ref_x, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(trace.conn_h, ref_h, rtol=1e-9, atol=1e-14)
    assert np.all(np.triu(trace.conn_x, 1) == 0)
    np.testing.assert_array_equal(trace.conn_rows, np.arange(10))


@pytest.mark.parametrize("cell", ["gru", "lstm"])  # the generic sweep and the LSTM's many-rows step
def test_subsampled_rows_and_batch_are_the_same_numbers(cell):
    cfg = Config(cell=cell, task="sine", seq_len=12, hidden_size=4, batch_size=6, dtype="float64")
    full = run(cfg, connectivity=True)
    part = run(cfg, connectivity=True, conn_rows=[11, 3, 7], conn_batch=6)
    np.testing.assert_array_equal(part.conn_rows, [3, 7, 11])
    np.testing.assert_allclose(part.conn_x, full.conn_x[[3, 7, 11]], rtol=1e-12)
    small = run(cfg, connectivity=True, conn_batch=2)
    assert small.conn_x.shape == (12, 12) and not np.allclose(small.conn_x, full.conn_x)


def test_connectivity_off_by_default():
    t = run(Config(seq_len=5))
    assert t.conn_x is None and t.conn_h is None


def test_norms_of_tiny_and_large_float32_values_are_exact():
    from engine.connectivity import _mean_norm

    a = np.full((3, 3, 4), 1e20, dtype=np.float32)  # squares overflow float32, not float64
    a[1] = 1.0
    a[2] = 1e-25  # squares underflow float32 to 0, not float64
    np.testing.assert_allclose(_mean_norm(torch.from_numpy(a)), [2e20, 2.0, 2e-25], rtol=1e-6)
    a[0, 0, 0] = np.inf
    assert _mean_norm(torch.from_numpy(a))[0] == np.inf


def test_float32_connectivity_keeps_tiny_entries():
    """Vanishing rows reach ~1e-20 and below: float32 must not flush their norms to 0."""
    cfg = Config(cell="lstm", task="first", seq_len=120, hidden_size=16, batch_size=4)
    lo, hi = run(cfg, connectivity=True), run(cfg.replace(dtype="float64"), connectivity=True)
    tril = np.tril(np.ones((120, 120), dtype=bool))
    assert hi.conn_x[tril].min() < 1e-19
    np.testing.assert_allclose(lo.conn_x[tril], hi.conn_x[tril], rtol=2e-3)


@pytest.mark.parametrize("bad", [[12], [-1, 3]])
def test_rows_outside_the_sequence_are_a_clear_error(bad):
    cfg = Config(cell="lstm", seq_len=12, hidden_size=4, batch_size=2)
    with pytest.raises(ValueError, match=r"conn_rows: rows are loss steps t in 0\.\.11"):
        run(cfg, connectivity=True, conn_rows=bad)


@pytest.mark.parametrize("conn_batch,conn_rows", [(None, None), (2, [9, 0, 4])])
def test_lstm_many_rows_step_matches_the_generic_sweep(conn_batch, conn_rows):
    """LSTMRows (shared GEMM for i, f, g; batch-major rows) against LSTM.step_back per row, also on a batch subset."""
    from engine.cells.lstm import LSTM
    from engine.connectivity import connectivity

    class PerRowLSTM(LSTM):
        rows = None  # forces the generic sweep

    cfg = Config(cell="lstm", task="copy", seq_len=10, hidden_size=5, batch_size=4, dtype="float64", forget_bias=1.0)
    model = Model(cfg)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    x = model.inputs(batch)[0]
    targets = model.tensor(np.eye(model.task.output_size)[np.array(batch.row_targets())])
    args = (model.views, p.tape, x, targets, batch.kind, conn_rows, conn_batch)
    fast, generic = connectivity(model.cell, *args), connectivity(PerRowLSTM(), *args)
    for a, b in zip(fast, generic, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
    assert np.all(fast[0][:, : fast[2].min()] > 0)  # non-trivial: every row sees the inputs before it

"""Every registered cell against torch autograd of its own equations (tests/reference.py), float64 to 1e-10."""

import numpy as np
import pytest
import torch
from reference import equation_pass

from engine import Config, run
from engine.cells import CELLS, get_cell
from engine.model import Model

TOL = 1e-10


def cases():
    for name, cls in CELLS.items():
        for task in ("adding", "copy", "sine"):
            activations = ("tanh", "relu", "linear") if cls.uses_activation else ("tanh",)
            for act in activations:
                yield name, act, task


@pytest.mark.parametrize("cell,activation,task", list(cases()))
def test_cell_matches_autograd_of_its_equations(cell, activation, task):
    bias = 1.0 if CELLS[cell].has_forget_bias else 0.0
    cfg = Config(
        cell=cell,
        activation=activation,
        task=task,
        seq_len=9,
        hidden_size=5,
        batch_size=3,
        dtype="float64",
        seed=2,
        recurrent_scale=0.95,
        init="normal",
        forget_bias=bias,
    )
    model = Model(cfg)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    loss, grads, dh, feats = equation_pass(model, batch)
    assert abs(float(p.loss_seq.mean()) - loss) < TOL
    np.testing.assert_allclose(p.feats.numpy(), feats.numpy(), rtol=0, atol=TOL)
    assert set(p.grads) == set(grads)
    for name, g in grads.items():
        np.testing.assert_allclose(p.grads[name].numpy(), g.numpy(), rtol=0, atol=TOL, err_msg=name)
    np.testing.assert_allclose(p.dh.numpy(), dh.numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("cell", list(CELLS))
def test_truncated_cell_matches_autograd_with_detach(cell):
    cfg = Config(cell=cell, task="sine", seq_len=12, hidden_size=4, batch_size=2, dtype="float64", truncation=4)
    model = Model(cfg)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    _, grads, dh, _ = equation_pass(model, batch, detach_every=4)
    for name, g in grads.items():
        np.testing.assert_allclose(p.grads[name].numpy(), g.numpy(), rtol=0, atol=TOL, err_msg=name)
    np.testing.assert_allclose(p.dh.numpy(), dh.numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("cell", list(CELLS))
def test_generic_step_agrees_with_the_unroll(cell):
    """A cell's plain `step` loop gives the same states and caches as its `unroll` (which may be a faster in-place loop)."""
    cfg = Config(cell=cell, seq_len=7, hidden_size=4, batch_size=3, dtype="float64")
    model = Model(cfg)
    x = model.inputs(model.batch(0))[0]
    c = get_cell(cell)
    fast = c.unroll(model.views, x)
    from engine.cells.base import Cell

    plain = Cell.unroll(c, model.views, x)
    np.testing.assert_allclose(fast.hs.numpy(), plain.hs.numpy(), rtol=0, atol=1e-14)
    for a, b in zip(fast.caches, plain.caches, strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=0, atol=1e-14)


@pytest.mark.parametrize("cell", list(CELLS))
def test_every_cell_describes_itself(cell):
    cls = CELLS[cell]
    assert cls.name == cell and cls.label and cls.description and cls.scale_meaning
    assert all(g.activation in ("sigmoid", "tanh") and g.role for g in cls.gates.values())
    cost = cls().cost(H=32, B=16, I=2) if not cls.uses_activation else cls("tanh").cost(H=32, B=16, I=2)
    assert cost.flops > 0 and cost.bytes > 0
    t = run(Config(cell=cell, seq_len=6, hidden_size=4, batch_size=2))
    assert (t.gates == {}) == (not cls.gates)
    assert set(t.gates) == set(cls.gates)
    assert t.cell_info == get_cell(cell).describe() and t.cell_info["gates"].keys() == cls.gates.keys()


@pytest.mark.parametrize("cell", list(CELLS))
def test_every_declaration_names_what_the_cell_has(cell):
    """Products name real parameters (or the LRU lambda) and inputs the cell makes; the direct path names a gate or a per-unit factor."""
    c = get_cell(cell)
    model = Model(Config(cell=cell, seq_len=5, hidden_size=3, batch_size=2, dtype="float64"))
    tape = c.unroll(model.views, model.inputs(model.batch(0))[0])
    assert c.products
    for prod in c.products:
        assert prod.form in ("matrix", "diagonal", "complex")
        assert prod.param in model.params or prod.form == "complex"
        assert c.product_input(model.views, tape, prod.input).shape[:2] == (5, 2)
    if c.direct is not None:
        assert c.direct.state in c.state_names
        assert c.direct.factor in c.gates or (c.direct.factor == "unit" and c.unit_decay(model.views) is not None)
    assert c.state_size(3) == (6 if c.complex_state else 3) == tape.hs.shape[-1]


def test_torch_cpu_and_cuda_give_the_same_trace():
    """One torch code path: on CUDA (where present) the trace equals the CPU's."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here; the device check runs this on a GPU machine")
    for cell in CELLS:
        cfg = Config(cell=cell, task="copy", seq_len=15, hidden_size=6, batch_size=3, dtype="float64", truncation=4)
        a, b = run(cfg.replace(device="cpu"), connectivity=True), run(cfg.replace(device="cuda"), connectivity=True)
        for name in ("grad_h", "grad_h_band", "contrib", "conn_x", "conn_h", "hidden"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-15, err_msg=f"{cell} {name}")

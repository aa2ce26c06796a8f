"""contrib[t] against torch autograd for every registered cell: the norm of step t's own term of the recurrent parameters' gradient.

The oracle gives every step its own copy of the recurrent parameters (tests/reference.py,
per_step_grads): dL/dP_t is then exactly step t's term, whatever vector the cell multiplies.
"""

import numpy as np
import pytest
import torch
from reference import per_step_grads

from engine import Config, run
from engine.cells import CELLS
from engine.model import Model

LRU_LAMBDA = ("log_mag", "theta")  # lambda = exp(log_mag + i theta): |dL/dlambda| = |(dL/dlog_mag, dL/dtheta)| / |lambda|


def autograd_contrib(model: Model) -> np.ndarray:
    """(T,) ||step t's term of dL/dP|| over the parameters of the cell's declared recurrent products."""
    params = {p.param for p in model.cell.products}
    names = sorted(set(LRU_LAMBDA) if "λ" in params else params)
    steps = per_step_grads(model, model.batch(0), names)
    out = []
    for g in steps:
        if "λ" in params:
            mag = torch.exp(model.params["log_mag"].detach().double())
            per_unit = torch.hypot(g["log_mag"], g["theta"]) / mag
            out.append(float(torch.linalg.vector_norm(per_unit)))
        else:
            out.append(float(torch.sqrt(sum((v * v).sum() for v in g.values()))))
    return np.array(out)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("task", ["adding", "sine"])
def test_contrib_equals_autograd_of_each_steps_own_weights(cell, task):
    cfg = Config(cell=cell, task=task, seq_len=11, hidden_size=5, batch_size=3, dtype="float64", init="normal", recurrent_scale=0.9)
    got = run(cfg).contrib
    np.testing.assert_allclose(got, autograd_contrib(Model(cfg)), rtol=1e-9, atol=1e-300)

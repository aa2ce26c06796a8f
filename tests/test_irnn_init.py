"""Identity init is the IRNN recipe: W_hh = scale * I and zero biases (the LSTM then adds only its forget bias)."""

import numpy as np
import pytest

from engine import Config
from engine.model import Model


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", "indrnn"])
def test_identity_init_zeroes_the_biases(cell):
    fb = 1.0 if cell == "lstm" else 0.0
    P = Model(Config(cell=cell, init="identity", recurrent_scale=0.7, hidden_size=5, forget_bias=fb, dtype="float64")).params
    biases = {k: v.detach().numpy() for k, v in P.items() if k.startswith("bias")}
    assert biases
    for name, b in biases.items():
        expected = np.zeros_like(b)
        if cell == "lstm" and name == "bias_ih":
            expected[5:10] = fb  # rows i, f, g, o: only the forget gate's bias
        np.testing.assert_array_equal(b, expected, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm", "indrnn"])
def test_other_inits_keep_torch_default_biases_and_the_same_input_weights(cell):
    """Other inits draw U(-1/sqrt(H), 1/sqrt(H)) biases; the draws themselves do not depend on init, so weight_ih is shared."""
    H = 16
    ident = Model(Config(cell=cell, init="identity", hidden_size=H, dtype="float64", seed=3)).params
    ortho = Model(Config(cell=cell, init="orthogonal", hidden_size=H, dtype="float64", seed=3)).params
    b = ortho["bias_ih"].detach().numpy()
    assert np.all(np.abs(b) <= 1 / np.sqrt(H)) and np.count_nonzero(b) == b.size
    if cell != "indrnn":  # the IndRNN's orthogonal init draws u's signs before the biases
        np.testing.assert_array_equal(ident["weight_ih"].detach().numpy(), ortho["weight_ih"].detach().numpy())

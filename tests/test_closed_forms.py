"""Closed forms and properties: linear RNNs, the theory bound, initialisation, clipping, contrib."""

import numpy as np
import pytest
import torch
from reference import functional_step

from engine import Config, run
from engine.clipping import clip_grads, global_norm
from engine.model import Model
from engine.theory import decay_factor, sigma_max, spectral_radius


@pytest.mark.parametrize("scale", [0.7, 1.0, 1.15])
def test_linear_orthogonal_rnn_gradient_is_exactly_geometric(scale):
    # h_t = s Q h_{t-1} + ...: dL/dh_t = (s Q^T)^(T-1-t) dL/dh_{T-1}, and Q preserves norms.
    T = 25
    trace = run(Config(activation="linear", init="orthogonal", recurrent_scale=scale, task="first", seq_len=T, dtype="float64"))
    expected = trace.grad_h[-1] * scale ** (T - 1 - np.arange(T))
    np.testing.assert_allclose(trace.grad_h, expected, rtol=1e-9)
    assert trace.decay_factor == pytest.approx(scale, rel=1e-9)
    assert trace.gamma == 1.0 and trace.sigma_max == pytest.approx(scale, rel=1e-12)


def test_identity_init_is_scaled_identity():
    model = Model(Config(init="identity", recurrent_scale=0.9, hidden_size=6))
    np.testing.assert_allclose(model.params["weight_hh"].detach().numpy(), 0.9 * np.eye(6), atol=1e-7)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("init", ["orthogonal", "identity", "normal", "torch"])
def test_each_recurrent_block_has_the_requested_spectral_radius(cell, init):
    cfg = Config(cell=cell, init=init, recurrent_scale=1.37, hidden_size=16, dtype="float64", seed=5)
    w = Model(cfg).params["weight_hh"].detach().numpy()
    for k in range(w.shape[0] // 16):
        assert spectral_radius(w[k * 16 : (k + 1) * 16]) == pytest.approx(1.37, rel=1e-9)


def test_spectral_radius_and_sigma_max_match_numpy():
    w = np.random.default_rng(0).standard_normal((7, 7))
    assert spectral_radius(w) == pytest.approx(max(abs(np.linalg.eigvals(w))))
    assert sigma_max(w) == pytest.approx(np.linalg.svd(w, compute_uv=False)[0])


@pytest.mark.parametrize("activation,scale", [("tanh", 0.8), ("tanh", 1.5), ("sigmoid", 3.0), ("relu", 1.1), ("linear", 0.95)])
@pytest.mark.parametrize("task", ["first", "sine"])
def test_theory_bound_holds(activation, scale, task):
    for seed in range(3):
        t = run(Config(activation=activation, recurrent_scale=scale, init="normal", task=task, seq_len=40, seed=seed, dtype="float64"))
        assert np.all(t.grad_h <= t.bound * (1 + 1e-9))


def test_bound_is_tight_for_the_linear_orthogonal_rnn():
    t = run(Config(activation="linear", recurrent_scale=0.9, task="first", seq_len=20, dtype="float64"))
    np.testing.assert_allclose(t.grad_h, t.bound, rtol=1e-9)


def test_decay_factor_fit():
    g = 3.0 * 0.8 ** (10 - np.arange(11))
    assert decay_factor(g) == pytest.approx(0.8)
    assert decay_factor(np.array([0.0, 0.0, 1.0])) is None
    assert decay_factor(np.array([0.0, 0.5, 1.0])) == pytest.approx(0.5)


def grads_of(values):
    return {f"p{i}": torch.as_tensor(np.asarray(v, dtype=np.float64)) for i, v in enumerate(values)}


def test_clip_by_norm_bounds():
    g = grads_of([[3.0, 4.0], [12.0]])  # norm 13
    out, before, after, clipped = clip_grads(g, "norm", 5.0)
    assert before == pytest.approx(13.0) and after == pytest.approx(5.0) and clipped
    np.testing.assert_allclose(out["p0"], np.array([3.0, 4.0]) * 5 / 13)
    out, before, after, clipped = clip_grads(g, "norm", 20.0)
    assert not clipped and after == before and out is g


def test_clip_by_value_bounds_every_element():
    rng = np.random.default_rng(1)
    g = grads_of([rng.standard_normal(50) * 3, rng.standard_normal((4, 4))])
    out, before, after, clipped = clip_grads(g, "value", 0.5)
    assert clipped and max(float(v.abs().max()) for v in out.values()) <= 0.5
    assert after == pytest.approx(global_norm(out)) and after < before


def test_clipping_in_a_run_never_exceeds_threshold():
    for clip in ("norm", "value"):
        t = run(Config(activation="linear", recurrent_scale=1.05, seq_len=60, clip=clip, clip_threshold=0.1))
        assert t.clipped and t.grad_norm_before_clip > 0.1
        if clip == "norm":
            assert t.grad_norm_after_clip == pytest.approx(0.1, rel=1e-5)
        assert max(np.abs(v) for v in t.param_grad_norms.values()) <= t.grad_norm_after_clip * (1 + 1e-9)


def test_global_norm_does_not_overflow_for_large_finite_values():
    g = {"a": torch.full((4,), 1e30, dtype=torch.float32)}
    assert global_norm(g) == pytest.approx(2e30, rel=1e-6)


def test_contrib_is_the_norm_of_each_steps_weight_gradient_term():
    # Give every step its own copy of W_hh: autograd's gradient of copy t is step t's term.
    cfg = Config(activation="tanh", task="sine", seq_len=8, hidden_size=5, batch_size=3, dtype="float64")
    model = Model(cfg)
    batch = model.batch(0)
    trace = run(cfg)
    P = {k: v.detach().double() for k, v in model.params.items()}
    copies = [P["weight_hh"].clone().requires_grad_(True) for _ in range(8)]
    x = torch.as_tensor(batch.x)
    h = torch.zeros(3, 5, dtype=torch.float64)
    loss = 0
    for t in range(8):
        h = functional_step(cfg, dict(P, weight_hh=copies[t]), x[t], h)
        y = h @ P["head_weight"].T + P["head_bias"]
        loss = loss + ((y - torch.as_tensor(batch.target[t])) ** 2).mean(-1)
    (loss.mean() / 8).backward()
    np.testing.assert_allclose(trace.contrib, [c.grad.norm().item() for c in copies], rtol=1e-9, atol=1e-15)


def test_contrib_gram_and_direct_paths_agree():
    from engine.contrib import contrib_norms

    rng = np.random.default_rng(0)
    dah, hp = rng.standard_normal((5, 40, 6)), rng.standard_normal((5, 40, 3))  # B large: direct path
    direct = contrib_norms(dah, hp, 40)
    expected = [np.linalg.norm(dah[t].T @ hp[t]) / 40 for t in range(5)]
    np.testing.assert_allclose(direct, expected, rtol=1e-12)
    dah, hp = rng.standard_normal((5, 2, 60)), rng.standard_normal((5, 2, 30))  # B small: Gram path
    np.testing.assert_allclose(contrib_norms(dah, hp, 2), [np.linalg.norm(dah[t].T @ hp[t]) / 2 for t in range(5)], rtol=1e-10)
    for factor in (1e-30, 1e-39, 1e30):  # squares would underflow / overflow float32; 1e-39 is a float32 denormal
        scaled = (dah * factor).astype(np.float32)
        np.testing.assert_allclose(contrib_norms(scaled, hp, 2), contrib_norms(dah, hp, 2) * factor, rtol=1e-3 if factor < 1e-38 else 1e-6)


def test_float32_traces_keep_tiny_gradients():
    """A vanishing LSTM reaches ~1e-25: float32 records must not flush contrib or grad_h to 0."""
    cfg = Config(cell="lstm", task="first", seq_len=150, hidden_size=16, batch_size=4)
    lo, hi = run(cfg), run(cfg.replace(dtype="float64"))
    assert hi.grad_h.min() < 1e-20 and hi.contrib[1:].min() < 1e-20
    np.testing.assert_allclose(lo.grad_h, hi.grad_h, rtol=1e-3)
    np.testing.assert_allclose(lo.contrib[1:], hi.contrib[1:], rtol=1e-3)


@pytest.mark.parametrize("cell,init", [("rnn", "normal"), ("lstm", "orthogonal"), ("gru", "torch"), ("rnn", "identity")])
def test_trace_spectra_are_those_of_the_current_weights(cell, init):
    """Fresh and after a change of the weights, the reported radius and sigma_max are the weights' own."""
    model = Model(Config(cell=cell, init=init, recurrent_scale=0.9, hidden_size=12, seq_len=10, dtype="float64"))
    batch = model.batch(0)

    def check():
        p = model.forward_backward(batch)
        t = model.record(batch, p, model.clip(p.grads))
        w = model.params["weight_hh"].detach().numpy()
        blocks = [w[k * 12 : (k + 1) * 12] for k in range(w.shape[0] // 12)]
        assert t.spectral_radius == pytest.approx(max(spectral_radius(b) for b in blocks), rel=1e-9)
        assert t.sigma_max == pytest.approx(max(sigma_max(b) for b in blocks), rel=1e-9)

    check()
    with torch.no_grad():
        model.params["weight_hh"].add_(0.05 * torch.randn(model.params["weight_hh"].shape, dtype=torch.float64))
    model.version += 1
    check()


def test_spectra_are_recomputed_after_updates():
    from engine import train

    cfg = Config(init="normal", hidden_size=12, seq_len=10, lr=0.2, optimizer="sgd")
    gen = train(cfg, steps=4, every=3)
    first = next(gen)
    last = next(gen)
    assert last.step == 3 and last.trace.spectral_radius != first.trace.spectral_radius


def test_decay_fit_stays_inside_the_truncation_horizon():
    # per-step losses with truncation give a saw-tooth; the fit uses the last block only
    t = run(Config(activation="linear", recurrent_scale=0.8, task="sine", seq_len=40, truncation=10, dtype="float64"))
    assert t.decay_factor == pytest.approx(0.8, rel=1e-6)
    assert decay_factor(np.array([5.0, 0.0, 0.25, 0.5, 1.0]), first=2) == pytest.approx(0.5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gate_means_and_saturation_shares(cell):
    cfg = Config(
        cell=cell, seq_len=12, hidden_size=6, batch_size=5, recurrent_scale=2.5, init="normal", forget_bias=4.0 if cell == "lstm" else 0.0
    )
    model = Model(cfg)
    batch = model.batch(0)
    p = model.forward_backward(batch)
    trace = model.record(batch, p, model.clip(p.grads))
    act = p.tape.gates.double().numpy()
    for k, name in enumerate({"lstm": "ifgo", "gru": "rzn"}[cell]):
        a = act[:, :, k * 6 : (k + 1) * 6]
        # float32 sums of values in [-1, 1]: exact to a few float32 ulps of 1, also where a mean cancels to ~0
        np.testing.assert_allclose(trace.gates[name], a.mean(axis=1), rtol=1e-6, atol=1e-7)
        flat = np.abs(a) > 0.95 if name in "gn" else (a > 0.95) | (a < 0.05)
        np.testing.assert_allclose(trace.saturation[name], flat.mean(axis=(1, 2)))
    if cell == "lstm":
        assert trace.saturation["f"].mean() > 0.5  # a forget bias of 4 pins f near 1

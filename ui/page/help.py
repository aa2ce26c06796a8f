"""Help text of every sidebar control (the tooltip), in one place; the Config table keeps the short CLI help."""

from __future__ import annotations

from engine.cells import CELLS

HELP = {
    "cell": " ".join(f"{cls.label}: {cls.description}." for cls in CELLS.values()),
    "activation": "Nonlinearity φ of the RNN and the IndRNN. γ = max |φ′| bounds each backward step: 1 for tanh, ReLU and linear, "
    "1/4 for sigmoid (which vanishes fastest). Saturated tanh units and dead ReLUs pass no gradient.",
    "task": "Where the loss sits. Adding problem and first input: one loss at the last step, so the gradient must travel all the way "
    "back. Copy and noisy sine: a loss at every step, so short paths dominate the total. In links: adding, first, copy, sine.",
    "seq_len": "Steps T the network is unrolled over. The gradient reaching step 0 is a product of T Jacobians: "
    "longer sequences make vanishing or exploding plain to see.",
    "hidden_size": "Hidden units H. With orthogonal or identity init the per-step gain does not depend on H.",
    "batch_size": "Independent sequences per batch. Gradient curves show the mean of per-sequence norms and a 10-90 % band, "
    "so B mostly changes the noise, not the level.",
    "init": "W_hh before rescaling. orthogonal and identity have all singular values equal (σ_max = spectral radius); "
    "normal and torch's uniform spread them, so σ_max > radius and the theory bound is looser. identity also zeroes the biases (IRNN).",
    "recurrent_scale": "Spectral radius rho of W_hh after rescaling: the main knob. Each step back multiplies the gradient by "
    "about ρ·φ′. Below 1 it vanishes geometrically; above 1 it can explode until float32 overflows.",
    "forget_bias": "Added to the LSTM forget-gate bias. A forget gate near 1 (bias 1 or more) passes ∂L/∂c_t back almost unchanged; "
    "at 0 the gate sits near 0.5 and the gradient still vanishes (×0.70 to ×0.76 per step on average at T = 100). LSTM only.",
    "bptt": "Full BPTT follows every path back to step 0. Truncated BPTT cuts the graph: the gradient beyond the horizon is exactly "
    "zero, so dependencies longer than k cannot be learned.",
    "truncation": "Detach the hidden state every k steps: each loss is backpropagated at most to the last cut (k ≤ T).",
    "k1": "TBPTT(k1, k2): run k1 forward steps between backward passes...",
    "k2": "...and backpropagate k2 steps each time (k1 ≤ k2 ≤ T, so every loss is reached).",
    "clip": "Pascanu et al. 2013. norm: rescale the whole gradient to norm θ, keeping its direction. value: clamp every element "
    "to [-θ, θ], which can turn it. Clipping tames exploding updates; it cannot revive vanishing gradients.",
    "clip_threshold": "θ: the largest global gradient norm (norm clipping) or element (value clipping) let through.",
    "optimizer": "SGD follows the (clipped) gradient; Adam divides by a running gradient size, which partly hides how small or large "
    "the raw gradients are.",
    "lr": "Step size of each update. With exploding gradients a large rate throws the weights far away; clipping bounds the step.",
    "seed": "Seed of the weights and of every data batch: the same settings and seed give the same numbers.",
    "steps": "Training updates performed when you press Run (type a number or use the − / + buttons).",
    "every": "Record a full gradient trace every k steps: one row of the time x training-step heatmap each.",
    "dtype": "float64 postpones overflow (about 1e308 instead of 3e38) and underflow, at some cost in speed.",
}

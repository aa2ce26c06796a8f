"""Sidebar controls: widgets keyed by Config field names, read back into one validated Config."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from engine import TASKS, Config, ConfigError
from engine.backend import resolve_device
from engine.config import field_info

from . import limits, links

LABELS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "full": "full BPTT", "k": "truncated every k steps", "k1k2": "TBPTT(k1, k2)"}
# Short enough for the sidebar's select box; the task's full description goes in a caption under it.
TASK_LABELS = {"adding": "adding problem", "first": "first input", "copy": "copy (delayed recall)", "sine": "noisy sine"}
HELP = {
    "cell": "RNN: every step back multiplies the gradient by W_hh and phi', so it vanishes or explodes geometrically. "
    "LSTM: the cell state c_t is an additive path, scaled only by the forget gate. GRU: the update gate z gives a similar shortcut.",
    "activation": "Nonlinearity phi of the vanilla RNN. gamma = max |phi'| bounds each backward step: 1 for tanh, ReLU and linear, "
    "1/4 for sigmoid (which vanishes fastest). Saturated tanh units and dead ReLUs pass no gradient.",
    "task": "Where the loss sits. Adding problem and first input: one loss at the last step, so the gradient must travel all the way "
    "back. Copy and noisy sine: a loss at every step, so short paths dominate the total. In links: adding, first, copy, sine.",
    "seq_len": "Steps T the network is unrolled over. The gradient reaching step 0 is a product of T Jacobians: "
    "longer sequences make vanishing or exploding plain to see.",
    "hidden_size": "Hidden units H. With orthogonal or identity init the per-step gain does not depend on H.",
    "batch_size": "Independent sequences per batch. Gradient curves show the mean of per-sequence norms and a 10-90 % band, "
    "so B mostly changes the noise, not the level.",
    "init": "W_hh before rescaling. orthogonal and identity have all singular values equal (sigma_max = spectral radius); "
    "normal and torch's uniform spread them, so sigma_max > radius and the theory bound is looser.",
    "recurrent_scale": "Spectral radius rho of W_hh after rescaling: the main knob. Each step back multiplies the gradient by "
    "about rho * phi'. Below 1 it vanishes geometrically; above 1 it can explode until float32 overflows.",
    "forget_bias": "Added to the LSTM forget-gate bias. A forget gate near 1 (bias 1 or more) passes dL/dc_t back almost unchanged; "
    "at 0 the gate sits near 0.5 and the cell-state gradient roughly halves every step. LSTM only.",
    "bptt": "Full BPTT follows every path back to step 0. Truncated BPTT cuts the graph: the gradient beyond the horizon is exactly "
    "zero, so dependencies longer than k cannot be learned.",
    "truncation": "Detach the hidden state every k steps: each loss is backpropagated at most to the last cut (k <= T).",
    "k1": "TBPTT(k1, k2): run k1 forward steps between backward passes...",
    "k2": "...and backpropagate k2 steps each time (k1 <= k2 <= T, so every loss is reached).",
    "clip": "Pascanu et al. 2013. norm: rescale the whole gradient to norm theta, keeping its direction. value: clamp every element "
    "to [-theta, theta], which can turn it. Clipping tames exploding updates; it cannot revive vanishing gradients.",
    "clip_threshold": "theta: the largest global gradient norm (norm clipping) or element (value clipping) let through.",
    "optimizer": "SGD follows the (clipped) gradient; Adam divides by a running gradient size, which partly hides how small or large "
    "the raw gradients are.",
    "lr": "Step size of each update. With exploding gradients a large rate throws the weights far away; clipping bounds the step.",
    "seed": "Seed of the weights and of every data batch: the same settings and seed give the same numbers.",
    "steps": "Training updates performed when you press Run.",
    "every": "Record a full gradient trace every k steps: one row of the time x training-step heatmap each.",
    "dtype": "float64 postpones overflow (about 1e308 instead of 3e38) and underflow, at some cost in speed.",
}


@dataclass(frozen=True)
class Settings:
    """What the sidebar decided: a valid Config (or the error naming the field), training length, link messages."""

    config: Config | None
    steps: int
    every: int
    error: str | None = None
    link_errors: list = field(default_factory=list)
    link_warnings: list = field(default_factory=list)


def _help(name: str) -> str:
    return HELP.get(name) or field_info(name)["help"]


def _prepare_state(cap: dict) -> tuple[list, list]:
    """Seed the widget state from the URL once per session, then keep every value inside this run's ranges."""
    state = st.session_state
    errors, warnings = [], []
    if "_link_loaded" not in state:
        values, errors, warnings = links.parse(st.query_params.to_dict(), cap)
        state["_link_loaded"] = True
        state.update(values)
    current = {k: state[k] if k in state else v for k, v in links.widget_values(Config()).items()}
    values, _ = limits.fit(current, cap)
    # Only what is missing or was clamped (k > new T): assigning a widget's key makes Streamlit push that value back to
    # the browser, which would overwrite key presses made while this run was in flight.
    state.update(changed(state, values))
    return errors, warnings


def changed(state, values: dict) -> dict:
    """The entries of values that state lacks or holds a different value for: the only ones worth assigning."""
    return {k: v for k, v in values.items() if k not in state or state[k] != v}


def _select(name: str, label: str, options, disabled: bool = False, fmt=None):
    st.selectbox(label, options, key=name, help=_help(name), disabled=disabled, format_func=fmt or str)


def _slider(name: str, label: str, rng: dict, step=None, disabled: bool = False):
    lo, hi = rng[name]
    st.slider(label, lo, hi, key=name, step=step, help=_help(name), disabled=disabled)


def _number(name: str, label: str, rng: dict, step, fmt: str, disabled: bool = False):
    lo, hi = rng[name]
    st.number_input(label, lo, hi, key=name, step=step, format=fmt, help=_help(name), disabled=disabled)


def sidebar() -> Settings:
    """Draw the controls and return the Config they describe; moving them never trains anything."""
    cap = limits.caps()
    errors, warnings = _prepare_state(cap)
    s = st.session_state
    rng = limits.ranges(s, cap)  # from this run's values: k <= T, k2 >= k1
    with st.sidebar:
        st.header("Network")
        st.radio("Cell", ("rnn", "lstm", "gru"), key="cell", horizontal=True, format_func=LABELS.get, help=_help("cell"))
        gated = s["cell"] != "rnn"
        _select("activation", "Activation (vanilla RNN)", ("tanh", "relu", "sigmoid", "linear"), disabled=gated)
        if gated:
            st.caption(f"{LABELS[s['cell']]} has fixed sigmoid gates and tanh candidates; the activation applies to the vanilla RNN only.")
        _slider("hidden_size", "Hidden size H", rng)
        _select("init", "Initialisation of W_hh", ("orthogonal", "identity", "normal", "torch"))
        _slider("recurrent_scale", "Recurrent scale (spectral radius of W_hh)", rng, step=0.05)
        _slider("forget_bias", "Forget-gate bias (LSTM only)", rng, step=0.25, disabled=s["cell"] != "lstm")

        st.header("Task")
        _select("task", "Task", tuple(TASKS), fmt=lambda t: TASK_LABELS.get(t, t))
        st.caption(task_caption(s["task"]))
        _slider("seq_len", "Sequence length T", rng)
        _slider("batch_size", "Batch size B", rng)
        _number("seed", "Seed", rng, 1, "%d")

        st.header("Backpropagation")
        st.radio("Backpropagate through", ("full", "k", "k1k2"), key="bptt", format_func=LABELS.get, help=_help("bptt"))
        if s["bptt"] == "k":
            _slider("truncation", "Truncation horizon k", rng)
        elif s["bptt"] == "k1k2":
            _slider("k1", "k1: forward steps between backward passes", rng)
            _slider("k2", "k2: steps backpropagated", rng)
        _select(
            "clip", "Gradient clipping", ("none", "norm", "value"), fmt={"none": "none", "norm": "by global norm", "value": "by value"}.get
        )
        _number("clip_threshold", "Clipping threshold theta", rng, 0.1, "%.3g", disabled=s["clip"] == "none")

        st.header("Training")
        _select("optimizer", "Optimiser", ("adam", "sgd"), fmt=lambda o: {"adam": "Adam", "sgd": "SGD"}[o])
        _number("lr", "Learning rate", rng, 0.001, "%.4g")
        _slider("steps", "Training steps", rng)
        _slider("every", "Snapshot every k steps", rng)
        with st.expander("Precision and device"):
            _select("dtype", "Floating point", ("float32", "float64"))
            st.caption(f"Computing on: {resolve_device('auto')} (chosen automatically).")
    config, error = read_config(s)
    return Settings(config, int(s["steps"]), int(s["every"]), error, errors, warnings)


def task_caption(task: str) -> str:
    """The task's full description as a sentence, shown under the select box that holds only its short label."""
    text = TASKS[task].description
    return f"{text[0].upper()}{text[1:]}."


def read_config(values) -> tuple[Config | None, str | None]:
    """The Config the widget values describe (fields that do not apply are left at their neutral value), or the error."""
    v = values
    cell, mode = v["cell"], v["bptt"]
    try:
        cfg = Config(
            cell=cell,
            activation=v["activation"] if cell == "rnn" else "tanh",
            task=v["task"],
            seq_len=int(v["seq_len"]),
            hidden_size=int(v["hidden_size"]),
            batch_size=int(v["batch_size"]),
            init=v["init"],
            recurrent_scale=float(v["recurrent_scale"]),
            forget_bias=float(v["forget_bias"]) if cell == "lstm" else 0.0,
            truncation=int(v["truncation"]) if mode == "k" else 0,
            k1=int(v["k1"]) if mode == "k1k2" else 0,
            k2=int(v["k2"]) if mode == "k1k2" else 0,
            clip=v["clip"],
            clip_threshold=float(v["clip_threshold"]),
            optimizer=v["optimizer"],
            lr=float(v["lr"]),
            seed=int(v["seed"]),
            dtype=v["dtype"],
        )
    except ConfigError as e:
        return None, f"Setting `{e.field}` refused: {e}"
    return cfg, None

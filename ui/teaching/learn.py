"""The Learn tab: the ideas behind every picture in the app, with things to try."""

from __future__ import annotations

import streamlit as st

from ui.page.lesson_view import START_TAB, lesson_list

from .lesson_steps import TAB_KEY
from .lessons import apply_settings, link_for


def learn_tab() -> None:
    """Render the whole Learn tab: the lessons, then one short section per idea, in teaching order."""
    st.markdown(
        "Each section explains one idea behind the charts, gives the equations the engine really computes, "
        "and ends with settings to **try in the app**: a button sets the controls. Symbols: input $x_t$, hidden state $h_t$, "
        "steps $t = 0, \\dots, T-1$, loss $L$."
    )
    with st.expander("Lessons: a guided path, each claim checked on the run you see", expanded=True):
        lesson_list("learn")
    for section in SECTIONS:
        section()


def _try(*items) -> None:
    """A collapsible list of experiments, each with a button that sets the controls (and its link), so the tab expands into a lab.

    An item is a sentence, or (sentence, settings) where settings are sidebar values on top of the defaults.
    """
    with st.expander("Try this in the app"):
        for item in items:
            text, settings = (item, None) if isinstance(item, str) else item
            if settings is None:
                st.markdown(f"- {text}")
                continue
            left, right = st.columns([5, 1])
            left.markdown(f"- {text}")
            right.button(
                "Set the controls",
                key="try_" + link_for(settings),
                on_click=_set_and_show,
                args=(settings,),
                help=f"Every other control goes back to its default. As a link: {link_for(settings)}",
                width="stretch",
            )


def _set_and_show(settings: dict) -> None:
    """A "Set the controls" button: the settings, then the Gradient flow tab, where the change shows (not Learn, where nothing moves)."""
    apply_settings(settings)
    st.session_state[TAB_KEY] = START_TAB


def recurrence() -> None:
    """The vanilla RNN and its unrolled picture: one cell reused T times."""
    st.subheader("1. The recurrence, unrolled")
    st.markdown(
        "A recurrent network reads a sequence one step at a time and keeps a **hidden state** that carries "
        "what it has seen so far. The vanilla (Elman) RNN applies the same rule at every step:"
    )
    st.latex(r"h_t = \phi\left(W_{ih}\,x_t + b + W_{hh}\,h_{t-1}\right), \qquad y_t = W_{hy}\,h_t, \qquad h_{-1} = 0")
    st.markdown(
        "Here $\\phi$ is tanh, ReLU, sigmoid or the identity (linear). **Unrolling** draws the loop as a chain of "
        "$T$ copies of the cell, all sharing $W_{ih}$, $W_{hh}$ and $W_{hy}$. The result is a very deep "
        "feed-forward network whose layers share their weights: depth in time is where both the memory and "
        "the training trouble come from. The task decides where the loss sits: at the last step only "
        "(adding problem, remember-the-first-input) or at every step (copy, noisy sine)."
    )
    _try(
        "Open the **Unrolled graph** tab and change the sequence length $T$: the number of parameters stays the same, "
        "only the depth of the unrolled chain grows.",
        (
            "Switch the task from adding (one loss at the end) to sine (a loss at every step) and watch the gradient curve change shape.",
            {"task": "sine"},
        ),
    )


def bptt() -> None:
    """Backpropagation through time: a sum over future paths, each a product of Jacobians."""
    st.subheader("2. Backpropagation through time (BPTT)")
    st.markdown(
        "BPTT is ordinary backpropagation on the unrolled chain. The hidden state $h_t$ influences the loss "
        "directly (if step $t$ has a loss) and through every later state, so its **total derivative** collects "
        "all future paths:"
    )
    st.latex(
        r"\frac{dL}{dh_t} = \frac{\partial \ell_t}{\partial h_t}"
        r" + \left(\frac{\partial h_{t+1}}{\partial h_t}\right)^{\!\top} \frac{dL}{dh_{t+1}}"
        r" = \sum_{s \ge t} \left(\frac{\partial h_s}{\partial h_t}\right)^{\!\top} \frac{\partial \ell_s}{\partial h_s}"
    )
    st.markdown("Each path from step $s$ back to step $t$ is a product of one Jacobian per step in between:")
    st.latex(r"\frac{\partial h_s}{\partial h_t} = D_s W_{hh}\, D_{s-1} W_{hh} \cdots D_{t+1} W_{hh}")
    st.latex(r"D_k = \operatorname{diag}\big(\phi'(a_k)\big), \qquad a_k = W_{ih}\,x_k + b + W_{hh}\,h_{k-1}")
    st.markdown(
        "The weights are shared, so their gradient is a sum of one term per step. The app's "
        "**contribution** chart shows the size of each term: which steps the update actually learns from."
    )
    st.latex(r"\frac{dL}{dW_{hh}} = \sum_{t} \delta_t\, h_{t-1}^{\top}, \qquad \delta_t = \phi'(a_t) \odot \frac{dL}{dh_t}")
    st.markdown(
        "The main chart plots $\\lVert dL/dh_t \\rVert$ against $t$ (mean over the batch, with a 10-90 % band). "
        "The **Connectivity** tab shows $\\lVert \\partial \\ell_t / \\partial x_k \\rVert$: how much the output "
        "at step $t$ still depends on the input at step $k$."
    )
    _try(
        (
            "Adding task (loss at the last step only): the gradient starts at $t = T-1$ and the curve shows what is "
            "left of it as you read leftwards, back in time.",
            {"task": "adding", "seq_len": 100},
        ),
        ("Sine task (a loss at every step): each $dL/dh_t$ now sums many paths, short and long.", {"task": "sine", "seq_len": 100}),
    )


def vanishing_exploding() -> None:
    """Why the product of Jacobians shrinks or grows geometrically, and the knob that decides."""
    st.subheader("3. Vanishing and exploding gradients")
    st.markdown(
        "A product of $s - t$ Jacobians behaves like a power. Bounding each factor by its largest singular value "
        "gives (Bengio et al. 1994; Pascanu et al. 2013):"
    )
    st.latex(
        r"\left\lVert \frac{\partial h_s}{\partial h_t} \right\rVert \le \prod_{k=t+1}^{s} \lVert D_k \rVert\,\lVert W_{hh} \rVert"
        r" \le \left(\gamma\,\sigma_{\max}\right)^{s-t}"
    )
    st.latex(
        r"\gamma = \sup_a \lvert \phi'(a) \rvert = \begin{cases} 1 & \text{tanh, ReLU, linear} \\"
        r" \tfrac14 & \text{sigmoid} \end{cases}"
    )
    st.latex(
        r"\begin{aligned} & \sigma_{\max}(W_{hh}) < \tfrac{1}{\gamma} \;\Rightarrow\; \text{vanishing} && \text{(sufficient)} \\"
        r" & \text{exploding} \;\Rightarrow\; \sigma_{\max}(W_{hh}) > \tfrac{1}{\gamma} && \text{(necessary)} \end{aligned}"
    )
    st.markdown(
        "- **Vanishing:** a factor of 0.9 per step leaves $0.9^{100} \\approx 3 \\times 10^{-5}$ after 100 steps. "
        "Far-away causes send almost no signal, so long-range dependencies are not learned; near ones dominate.\n"
        "- **Exploding:** above the threshold the gradient *may* grow geometrically; one huge step throws the "
        "weights far away, and in float32 the numbers overflow near $3.4 \\times 10^{38}$. The app then shows the "
        "gap and says at which step it happened.\n"
        "- **The knob:** *recurrent scale* sets the spectral radius $\\rho(W_{hh})$, the largest eigenvalue "
        "magnitude. Long products grow like $\\rho^n$; with orthogonal or identity init all singular values are "
        "equal, so $\\rho = \\sigma_{\\max}$. The theory overlay draws the bound next to the measured curve. Two "
        "measures are written on it: the *factor per step (fitted)*, the slope of the measured curve on the log axis, "
        "below 1 for vanishing and above 1 for exploding, and the *end-to-end ratio* "
        "$\\lVert \\partial L/\\partial h_0 \\rVert / \\lVert \\partial L/\\partial h_{T-1} \\rVert$ of its two end points.\n"
        "- **Saturation:** $\\phi'$ near 0 (tanh or sigmoid at large inputs) adds extra shrinking factors."
    )
    _try(
        (
            "RNN, tanh, recurrent scale 0.8, $T = 100$: the gradient falls at least $\\times 0.8$ per step going back "
            "(a little faster, since $\\tanh' \\le 1$); with linear activation it is exactly $\\times 0.8$.",
            {"activation": "tanh", "recurrent_scale": 0.8, "seq_len": 100},
        ),
        (
            "Linear activation, scale 1.3, $T = 300$: the gradient grows $\\times 1.3$ per step back and overflows float32 "
            "about 50 steps back from the loss (at step 247 to 253, seeds 0-9): the chart draws the finite part and marks "
            "the step. Switch the precision to float64: the same run stays finite.",
            {"activation": "linear", "recurrent_scale": 1.3, "seq_len": 300},
        ),
        (
            "Sigmoid, scale 3 (below $1/\\gamma = 4$), $T = 100$: vanishes fast. Scale 5 (above 4): still vanishes: "
            "the condition for exploding is necessary, not sufficient.",
            {"activation": "sigmoid", "recurrent_scale": 3.0, "seq_len": 100},
        ),
        (
            "Tanh, scale 1.5, $T = 100$: the fitted factor per step is only 0.98 to 1.07 over seeds 0-9, far below 1.5, "
            "because $\\tanh'$ drops as the states grow; the **Gates** tab shows the share of units on a flat part.",
            {"activation": "tanh", "recurrent_scale": 1.5, "seq_len": 100},
        ),
    )


def truncation() -> None:
    """Truncated BPTT: cheaper and online, but blind beyond its horizon."""
    st.subheader("4. Truncated BPTT")
    st.markdown(
        "Full BPTT stores all $T$ states and waits for the end of the sequence. **Truncated BPTT**, "
        "TBPTT$(k_1, k_2)$ (Williams & Peng 1990; Sutskever 2013): after every $k_1$ forward steps, "
        "backpropagate the new losses through the last $k_2$ steps only. With $k_1 = k_2 = K$ this is the "
        "familiar *detach the hidden state every $K$ steps*:"
    )
    st.latex(
        r"\text{TBPTT}(k_1, k_2): \quad \frac{\partial \ell_s}{\partial h_t} \;\text{is set to}\; 0 \;\text{ for } t < b_s + k_1 - k_2,"
        r" \qquad b_s = k_1 \left\lfloor s / k_1 \right\rfloor"
    )
    st.markdown(
        "where $b_s$ is the first step of the $k_1$-block that holds step $s$: each block's losses are carried $k_2$ steps "
        "back from the block's end $b_s + k_1 - 1$. When $k_1$ does not divide $T$, the last block is shorter, and its losses "
        "reach back just as far as a full block's would, down to $b_s + k_1 - k_2$; so with $k_1 = k_2 = K$ this is exactly "
        "cutting the graph at $t = K, 2K, \\dots$"
    )
    st.markdown(
        "- **Cheaper:** memory and backward work per update grow with $k_2$, not $T$; updates can come every "
        "$k_1$ steps, even on an endless stream.\n"
        "- **Blind beyond the horizon:** a dependency longer than $k_2$ steps gets exactly zero gradient, so it "
        "cannot be learned. The forward pass still carries the state across cuts; only the learning signal stops.\n"
        "- It also caps explosion (a product of at most $k_2$ factors), which is why it is sometimes listed as a fix."
    )
    _try(
        (
            "RNN, linear, scale 1.0, $T = 100$, truncation $K = 20$: the curve stops 20 steps before the end; nothing earlier is learned.",
            {"activation": "linear", "recurrent_scale": 1.0, "seq_len": 100, "bptt": "k", "truncation": 20},
        ),
        (
            "Sine task, tanh, scale 0.9, $K = 20$: a saw-tooth. The last step of each chunk hears only its own loss, "
            "the first step hears the whole chunk.",
            {"task": "sine", "activation": "tanh", "recurrent_scale": 0.9, "seq_len": 100, "bptt": "k", "truncation": 20},
        ),
        (
            "Sine task, $k_1 = 10$, $k_2 = 40$: overlapping windows; a loss is carried back 30 to 39 steps, "
            "depending on where it sits in its block.",
            {"task": "sine", "seq_len": 100, "bptt": "k1k2", "k1": 10, "k2": 40},
        ),
    )


CLIP_DEMO = {"activation": "linear", "recurrent_scale": 1.1, "seq_len": 50, "optimizer": "sgd", "lr": 0.01}


def clipping() -> None:
    """Clipping by norm or by value: a cure for exploding, not vanishing, gradients."""
    st.subheader("5. Gradient clipping")
    st.markdown(
        "Pascanu, Mikolov & Bengio (2013): when the gradient $g$ (all parameters together) is too large, "
        "shrink it before the update. Two variants:"
    )
    st.latex(
        r"\text{by norm: } g \leftarrow \begin{cases} \dfrac{\theta}{\lVert g \rVert}\, g & \text{if } \lVert g \rVert > \theta \\"
        r" g & \text{otherwise} \end{cases}"
        r" \qquad\qquad \text{by value: } g_i \leftarrow \min\big(\max(g_i, -\theta),\, \theta\big)"
    )
    st.markdown(
        "- **By norm** keeps the direction and only limits the step length. **By value** bounds every entry, "
        "which can change the direction.\n"
        "- **Fixes exploding:** a rare huge gradient (a cliff in the loss surface) no longer throws the weights away.\n"
        "- **Does not fix vanishing:** clipping only ever shrinks. The far-past terms stay tiny next to the recent "
        "ones, so long-range dependencies remain out of reach. The per-step curve does not change at all; only "
        "the norm of the update does (shown before and after clipping)."
    )
    _try(
        (
            "RNN, linear, scale 1.1, $T = 50$, SGD, learning rate 0.01: press Run in the **Training** tab; "
            "training diverges after one step.",
            CLIP_DEMO,
        ),
        (
            "The same with clipping by norm, $\\theta = 1$: it trains, and every step reports a clip.",
            {**CLIP_DEMO, "clip": "norm", "clip_threshold": 1.0},
        ),
        "Compare the norm before and after clipping, then check that the gradient-over-time curve is unchanged.",
    )


def relu_identity() -> None:
    """ReLU with identity initialisation (IRNN): a Jacobian of exactly one for active units."""
    st.subheader("6. ReLU and identity initialisation (IRNN)")
    st.markdown(
        "Le, Jaitly & Hinton (2015): start a ReLU RNN with $W_{hh} = I$ and zero biases (the app's identity init does both, "
        "scaled by the recurrent scale). Then each step adds the "
        "new input to the old state, and each active unit passes the gradient back unchanged:"
    )
    st.latex(
        r"W_{hh} = I,\; \phi = \operatorname{ReLU}: \qquad \frac{\partial h_t}{\partial h_{t-1}}"
        r" = \operatorname{diag}\big(\mathbf{1}[a_t > 0]\big)"
    )
    st.markdown(
        "ReLU's derivative is 0 or 1, so there is no squashing factor, but also no brake: ReLU is unbounded, and "
        "a recurrent scale only a little above 1 makes activations and gradients explode. The trick is a good "
        "start, not a guarantee."
    )
    _try(
        (
            "RNN, ReLU, init identity, scale 1.0, $T = 100$: a nearly flat curve; over the 99 steps it keeps 0.48 to 0.83 "
            "of its size (seeds 0-9).",
            {"activation": "relu", "init": "identity", "recurrent_scale": 1.0, "seq_len": 100},
        ),
        (
            "Scale 0.95: at most $\\times 0.95$ per step, since switched-off units pass nothing: over 99 steps 0.003 to 0.005 "
            "(seeds 0-9), against $0.95^{99} \\approx 0.0062$.",
            {"activation": "relu", "init": "identity", "recurrent_scale": 0.95, "seq_len": 100},
        ),
        (
            "Scale 1.05: 60 to 105 over 99 steps (seeds 0-9), against $1.05^{99} \\approx 125$. Over 1000 steps the two "
            "scales differ as $0.95^{1000} \\approx 5 \\times 10^{-23}$ versus $1.05^{1000} \\approx 2 \\times 10^{21}$.",
            {"activation": "relu", "init": "identity", "recurrent_scale": 1.05, "seq_len": 100},
        ),
        (
            "Tanh with identity init: it decays anyway, because $\\tanh' < 1$ away from 0 (over 99 steps to 0.01 to 0.18, seeds 0-9).",
            {"activation": "tanh", "init": "identity", "recurrent_scale": 1.0, "seq_len": 100},
        ),
    )


def lstm() -> None:
    """The LSTM: an additive cell-state path whose gain is the forget gate."""
    st.subheader("7. The LSTM")
    st.markdown(
        "Hochreiter & Schmidhuber (1997). Three gates (input $i$, forget $f$, output $o$, all sigmoids) and a "
        "candidate $g$ (tanh), each an affine map of $x_t$ and $h_{t-1}$, control a separate **cell state** $c_t$:"
    )
    st.latex(
        r"\begin{aligned} i_t &= \sigma(W_{ii} x_t + W_{hi} h_{t-1} + b_i), & f_t &= \sigma(W_{if} x_t + W_{hf} h_{t-1} + b_f), \\"
        r" g_t &= \tanh(W_{ig} x_t + W_{hg} h_{t-1} + b_g), & o_t &= \sigma(W_{io} x_t + W_{ho} h_{t-1} + b_o), \end{aligned}"
    )
    st.latex(r"c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)")
    st.markdown(
        "The cell state is updated by **addition**, so going back one step costs a single elementwise "
        "factor $f_t$: no matrix, no squashing derivative."
    )
    st.latex(r"\frac{dL}{dc_{t-1}} = f_t \odot \frac{dL}{dc_t} + o_{t-1} \odot \big(1 - \tanh^2 c_{t-1}\big) \odot \frac{dL}{dh_{t-1}}")
    st.latex(r"\left.\frac{\partial c_s}{\partial c_t}\right|_{\text{cell path}} = \operatorname{diag}\Big(\prod_{k=t+1}^{s} f_k\Big)")
    st.markdown(
        "**The honest part.** The gradient survives only if $f$ stays near 1. An *untrained* LSTM with zero "
        "forget bias (torch's default init included) has $f \\approx 0.5$, and its gradient vanishes too: "
        "12 to 15 orders of magnitude over the 99 steps of a $T = 100$ sequence (seeds 0-9). "
        "The common fix is a **forget-gate bias of 1** (the "
        "forget gate itself came later: Gers, Schmidhuber & Cummins 2000), and training can learn to hold $f$ "
        "near 1 where memory matters. The LSTM makes a long memory *learnable*, not automatic."
    )
    _try(
        (
            "LSTM, $T = 100$, forget bias 0: mean $f \\approx 0.5$ in the **Gates** tab, and the curve falls by 12 to 15 orders "
            "of magnitude over the 99 steps (seeds 0-9).",
            {"cell": "lstm", "seq_len": 100, "forget_bias": 0.0},
        ),
        (
            "Forget bias 1: $f \\approx 0.7$ and a much slower decay: 2.6 to 4.7 orders over 99 steps (seeds 0-9).",
            {"cell": "lstm", "seq_len": 100, "forget_bias": 1.0},
        ),
        (
            "Forget bias 3: $f \\approx 0.94$; over seeds 0-9 the curve ranges from losing 2.1 orders of magnitude to gaining 0.7.",
            {"cell": "lstm", "seq_len": 100, "forget_bias": 3.0},
        ),
        "Compare the $h$ curve with the cell-state curve $\\lVert dL/dc_t \\rVert$ as you raise the forget bias.",
        (
            "Press Run in the **Training** tab with the defaults (Adam, learning rate 0.03, 1000 steps): an LSTM at $T = 50$ "
            "leaves the plateau of the trivial loss 1/6 between steps 500 and 1000 (seeds 0-4); its last 100 steps average 0.001 to 0.04.",
            {"cell": "lstm", "seq_len": 50},
        ),
        (
            "The same for an RNN at $T = 100$: its loss stays at the plateau: 0.17 to 0.22 over its last 100 steps (seeds 0-4).",
            {"cell": "rnn", "seq_len": 100},
        ),
    )


def gru() -> None:
    """The GRU: an update gate that interpolates between the old state and a new candidate."""
    st.subheader("8. The GRU")
    st.markdown(
        "Cho et al. (2014). Two gates, reset $r$ and update $z$, and a candidate $n$; no separate cell state "
        "(torch's convention, which applies $r$ after the matrix product):"
    )
    st.latex(
        r"\begin{aligned} r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\"
        r" z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\"
        r" n_t &= \tanh\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big) \\"
        r" h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1} \end{aligned}"
    )
    st.markdown(
        "The last line is an interpolation: the path $h_{t-1} \\to h_t$ has the elementwise gain $z_t$, so "
        "$z \\approx 1$ copies the state (and its gradient) forward, much like $f \\approx 1$ in the LSTM. One "
        "gate both forgets and writes, so the GRU has three weight blocks where the LSTM has four. Some texts "
        "swap the roles of $z$ and $1 - z$."
    )
    _try(
        (
            "GRU, $T = 100$: untrained, $z \\approx 0.5$ and the gradient vanishes like the LSTM's at forget bias 0 "
            "(12 to 14 orders of magnitude over 99 steps, seeds 0-9).",
            {"cell": "gru", "seq_len": 100},
        ),
        "Look at the $z$ gate in the **Gates** tab: wherever it is near 1, the state (and its gradient) is carried forward.",
    )


def indrnn() -> None:
    """IndRNN: a diagonal recurrence, so each unit's gradient has its own factor per step."""
    st.subheader("9. IndRNN: each unit recurs on itself")
    st.markdown(
        "Li et al. (2018) replace the matrix $W_{hh}$ by a vector $u$: unit $i$ sees only its own past, "
        "through one weight $u_i$. The units still mix, but only through the input map and the layers above."
    )
    st.latex(r"h_t = \phi\left(W x_t + u \odot h_{t-1} + b\right), \qquad u \in \mathbb{R}^H")
    st.markdown(
        "The Jacobian of one step is **diagonal**, so the product over many steps never mixes units: "
        "going back one step multiplies unit $i$'s gradient by exactly $u_i\\,\\phi'(a_{t,i})$."
    )
    st.latex(
        r"\frac{\partial h_{t,i}}{\partial h_{t-1,j}} = \begin{cases} u_i\,\phi'(a_{t,i}) & i = j \\ 0 & i \ne j \end{cases}"
        r" \qquad \Longrightarrow \qquad"
        r" \frac{\partial h_{s,i}}{\partial h_{t,i}} = \prod_{k=t+1}^{s} u_i\,\phi'(a_{k,i})"
    )
    st.markdown(
        "- **Recurrent scale** = $\\max_i \\lvert u_i \\rvert$. Identity init sets every $u_i$ to the scale; orthogonal "
        "gives $\\pm$ the scale with random signs; normal and torch draw $u$ at random and rescale it so that the "
        "largest $\\lvert u_i \\rvert$ equals the scale.\n"
        "- With **linear** $\\phi$ ($\\phi' = 1$) unit $i$'s gradient changes by exactly $\\lvert u_i \\rvert^{s-t}$ over "
        "$s - t$ steps. With tanh or ReLU $\\phi' \\le 1$, so $\\lvert u_i \\rvert^{s-t}$ is an upper bound and saturated "
        "units fade faster.\n"
        "- Each unit's memory is one number you can read off, instead of a spectrum hidden in a matrix: "
        "the **Gates** tab shows every $\\lvert u_i \\rvert$ and its decay $\\lvert u_i \\rvert^k$."
    )
    _try(
        (
            "IndRNN, linear, init identity, scale 0.9, $T = 100$: the gradient falls by exactly $\\times 0.9$ per step, "
            "and in the **Gates** tab the measured curve lies on $0.9^k$.",
            {"cell": "indrnn", "activation": "linear", "init": "identity", "recurrent_scale": 0.9, "seq_len": 100},
        ),
        (
            "Scale 1.0: flat. Scale 1.05 with $T = 500$: $\\times 1.05$ per step, about $4 \\times 10^{10}$ over the 499 steps.",
            {"cell": "indrnn", "activation": "linear", "init": "identity", "recurrent_scale": 1.05, "seq_len": 500},
        ),
        (
            "Tanh, init normal, scale 1.0: each unit gets its own $\\lvert u_i \\rvert$; the slowest units carry the gradient "
            "furthest back, and saturated units fall below their bound $\\lvert u_i \\rvert^k$.",
            {"cell": "indrnn", "activation": "tanh", "init": "normal", "recurrent_scale": 1.0},
        ),
    )


def lru() -> None:
    """The LRU: a linear diagonal complex recurrence whose per-unit gradient factor is exactly |lambda_i|."""
    st.subheader("10. The LRU: a linear recurrence with |λ| near 1")
    st.markdown(
        "Orvieto et al. (2023) go one step further: they drop the nonlinearity from the recurrence altogether and "
        "make it diagonal and **complex**. Each unit is a damped rotation:"
    )
    st.latex(r"h_t = \lambda \odot h_{t-1} + \gamma \odot (B\,x_t), \qquad y_t = \operatorname{Re}(C\,h_t) + D\,x_t")
    st.latex(
        r"\lambda_j = \exp\!\left(-e^{\nu_j} + \mathrm{i}\,\theta_j\right), \qquad"
        r" \lvert \lambda_j \rvert = e^{-e^{\nu_j}}, \qquad \gamma_j = \sqrt{1 - \lvert \lambda_j \rvert^2}"
    )
    st.markdown(
        "The normalisation $\\gamma$ keeps the state's size steady as $\\lvert \\lambda_j \\rvert$ approaches 1. "
        "Going back one step multiplies unit $j$'s gradient by $\\bar\\lambda_j$: a rotation, which keeps its size, "
        "and a scaling by exactly $\\lvert \\lambda_j \\rvert$, at every step and for every input."
    )
    st.latex(
        r"\frac{dL}{dh_{t-1}} = \bar\lambda \odot \frac{dL}{dh_t} \;\;(\text{no loss at } t-1)"
        r" \qquad \Longrightarrow \qquad \left\lvert \frac{dL}{dh_{t-k,j}} \right\rvert"
        r" = \lvert \lambda_j \rvert^{k} \left\lvert \frac{dL}{dh_{t,j}} \right\rvert"
    )
    st.latex(r"\lVert h \rVert^2 = \lVert \operatorname{Re} h \rVert^2 + \lVert \operatorname{Im} h \rVert^2")
    st.markdown(
        "- The app stores the complex state as its real and imaginary parts, and $\\lVert dL/dh_t \\rVert$ is the norm "
        "over both (the last formula).\n"
        "- **Recurrent scale** = $\\max_j \\lvert \\lambda_j \\rvert$. Identity init: every $\\lvert \\lambda_j \\rvert$ "
        "equals the scale $s$, phases $\\theta_j$ uniform in $[0, 2\\pi)$. The default (ring) init, as in the paper: "
        "$\\lvert \\lambda_j \\rvert$ spread over the ring $[0.9\\,s, s]$.\n"
        "- The paper's $e^{-e^{\\nu}}$ keeps $\\lvert \\lambda \\rvert < 1$; the app stores $\\log \\lvert \\lambda \\rvert$ "
        "itself, so a scale above 1 can show what that rules out. At exactly $\\lvert \\lambda_j \\rvert = 1$ the "
        "initial $\\gamma_j$ is 0 and the unit receives no input until training moves $\\gamma_j$.\n"
        "- **The lesson:** at $\\lvert \\lambda \\rvert = 1$ the gradient neither vanishes nor explodes, however long "
        "the sequence. No gate has to learn to stay open and no $\\phi'$ squashes it. This is what modern linear "
        "recurrences build on: the LRU, state-space models such as S4 (Gu, Goel & Ré 2022), and Mamba (Gu & Dao 2023), "
        "which makes the decay depend on the input. The nonlinearity moves out of the recurrence, into the layers "
        "that read $y_t$."
    )
    _try(
        (
            "LRU, init identity, scale 0.9: every unit decays by exactly $\\times 0.9$ per step; in the **Gates** tab the "
            "measured curve lies on $0.9^k$.",
            {"cell": "lru", "init": "identity", "recurrent_scale": 0.9},
        ),
        (
            "Default (ring) init, scale 0.999, $T = 1000$: the slowest units keep $0.999^{999} \\approx 0.37$ of the gradient, "
            "while a unit at $0.9$ keeps $0.9^{999} \\approx 2 \\times 10^{-46}$.",
            {"cell": "lru", "recurrent_scale": 0.999, "seq_len": 1000},
        ),
        (
            "Scale 1.01, $T = 1000$: above 1 the gradient grows, $1.01^{999} \\approx 2 \\times 10^{4}$: the instability "
            "that the paper's parametrisation rules out.",
            {"cell": "lru", "recurrent_scale": 1.01, "seq_len": 1000},
        ),
        (
            "Compare with the RNN (tanh) at the same scale and $T$: the LRU's curve is the clean power law "
            "$\\lvert \\lambda \\rvert^k$, with no $\\phi'$ factors eating into it.",
            {"cell": "rnn", "recurrent_scale": 0.999, "seq_len": 1000},
        ),
    )


def edge_of_chaos() -> None:
    """The phase diagram: every recurrent scale at once, and the edge between vanishing and exploding."""
    st.subheader("11. The edge of chaos: the phase diagram")
    st.markdown(
        "One run shows one recurrent scale. The **phase diagram** runs many scales at once (one batched job: all "
        "weight matrices stacked, every sequence of every scale advanced together) and keeps, for each scale $s$ "
        "and each distance $k$, how much of the last step's gradient is still there $k$ steps back:"
    )
    st.latex(
        r"\text{ratio}(s, k) = \frac{\lVert dL/dh_{T-1-k} \rVert}{\lVert dL/dh_{T-1} \rVert},"
        r" \qquad L = \ell_{T-1} \ \text{(the last step's loss)}, \qquad k = 0, \dots, T-1"
    )
    st.markdown(
        "Colour is $\\log_{10}$ of the ratio: blue where the gradient shrinks, white at 1, orange where it grows, "
        "red where it overflows. The black contours mark $10^{-3}$ and $10^{3}$. The theory line comes from the "
        "bound of section 3:"
    )
    st.latex(
        r"\left\lVert \frac{\partial h_{T-1}}{\partial h_{T-1-k}} \right\rVert \le \left(\gamma\,\sigma_{\max}\right)^{k},"
        r" \qquad \gamma\,\sigma_{\max}(W_{hh}) = 1 \iff s = \frac{1}{\gamma}"
        r" \quad \text{(orthogonal or identity } W_{hh}\text{: } \sigma_{\max} = s\text{)}"
    )
    st.markdown(
        "- **Left of the line** ($\\gamma\\,\\sigma_{\\max} < 1$) the gradient *must* vanish, geometrically in $k$: "
        "at a factor of 0.9 per step, $0.9^{100} \\approx 2.7 \\times 10^{-5}$ is left after 100 steps.\n"
        "- **Right of the line** the bound allows growth but does not force it. A linear RNN grows by exactly $s^k$ "
        "($1.1^{100} \\approx 1.4 \\times 10^{4}$) until float32 overflows. With tanh the inputs push the "
        "pre-activations away from 0, so $\\phi' < 1$ and the measured edge sits to the right of $1/\\gamma$; above it "
        "the state saturates, which caps the growth.\n"
        "- **On the edge**, the thin band where the ratio stays near 1 over the whole sequence, the gradient neither "
        "vanishes nor explodes. It is also where the forward dynamics turn chaotic (nearby states start to diverge): "
        "the *edge of chaos*, where deep and recurrent networks have been found to train best. Orthogonal and identity initialisation at "
        "scale 1 start a network there.\n"
        "- For the **LSTM** the diagram sweeps the **forget-gate bias** instead: the forget gate, not $W_{hh}$, sets "
        "the factor of the cell path. At $b_f = 0$, $f \\approx 0.5$ and the gradient shrinks geometrically (with "
        "$T = 200$ and the other defaults about $10^{-15}$ is left 100 steps back); from $b_f \\approx 2$ on it "
        "survives hundreds of steps. The GRU and the diagonal cells sweep the scale."
    )
    _try(
        "RNN, tanh, $T = 200$, scales 0.5 to 1.5: find where the $10^{-3}$ contour reaches the top of the diagram. "
        "It lies to the right of the theory line at 1: the line is a bound, not the edge itself.",
        "Activation linear, init orthogonal: each column is exactly $s^k$, and the edge sits on the theory line. "
        "Raise the scale until the red overflow cells appear.",
        "Activation sigmoid: $\\gamma = 1/4$ moves the theory line to scale 4, far right; everything to its left vanishes.",
        "LSTM: sweep the forget-gate bias from $-2$ to 6 and watch the blue region give way between $b_f \\approx 1$ and 2.",
        "Click a column to set the recurrent scale, then open the gradient chart: it is that column, read from the top down.",
    )


def pros_cons() -> None:
    """Where RNNs shine and where they hurt, so the lab is seen in context."""
    st.subheader("12. Strengths and weaknesses of RNNs")
    left, right = st.columns(2)
    left.markdown(
        "**Strengths**\n"
        "- Any sequence length, one step at a time (streaming).\n"
        "- Model size does not depend on the length.\n"
        "- Weights shared across time: the same rule at every position.\n"
        "- A fixed-size state summarises the past."
    )
    right.markdown(
        "**Weaknesses**\n"
        "- Sequential: step $t$ waits for step $t-1$, so training is slow and hard to parallelise.\n"
        "- Hard to train on long ranges: vanishing and exploding gradients (this app).\n"
        "- No look at the future inputs (unless run bidirectionally).\n"
        "- Full BPTT memory grows with $T$."
    )


REFERENCES = (
    "Bengio, Simard & Frasconi (1994). Learning long-term dependencies with gradient descent is difficult. "
    "*IEEE Transactions on Neural Networks* 5(2).",
    "Bertschinger & Natschläger (2004). Real-time computation at the edge of chaos in recurrent neural networks. "
    "*Neural Computation* 16(7).",
    "Cashman, Patterson, Mosca, Watts, Robinson & Chang (2018). RNNbow: visualizing learning via backpropagation "
    "gradients in RNNs. *IEEE Computer Graphics and Applications* 38(6).",
    "Cho, van Merriënboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio (2014). Learning phrase representations "
    "using RNN encoder-decoder for statistical machine translation. *EMNLP*.",
    "Gers, Schmidhuber & Cummins (2000). Learning to forget: continual prediction with LSTM. *Neural Computation* 12(10).",
    "Gu & Dao (2023). Mamba: linear-time sequence modeling with selective state spaces. arXiv:2312.00752.",
    "Gu, Goel & Ré (2022). Efficiently modeling long sequences with structured state spaces. *ICLR*.",
    "Hochreiter & Schmidhuber (1997). Long short-term memory. *Neural Computation* 9(8).",
    "Le, Jaitly & Hinton (2015). A simple way to initialize recurrent networks of rectified linear units. arXiv:1504.00941.",
    "Li, Li, Cook, Zhu & Gao (2018). Independently recurrent neural network (IndRNN): building a longer and deeper RNN. *CVPR*.",
    "Madsen (2019). Visualizing memorization in RNNs. *Distill*. https://distill.pub/2019/memorization-in-rnns",
    "Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De (2023). Resurrecting recurrent neural networks for long sequences. *ICML*.",
    "Pascanu, Mikolov & Bengio (2013). On the difficulty of training recurrent neural networks. *ICML*.",
    "Pennington, Schoenholz & Ganguli (2017). Resurrecting the sigmoid in deep learning through dynamical isometry. *NeurIPS*.",
    "Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli (2016). Exponential expressivity in deep neural networks through "
    "transient chaos. *NeurIPS*.",
    "Sutskever (2013). Training recurrent neural networks. PhD thesis, University of Toronto.",
    "Williams & Peng (1990). An efficient gradient-based algorithm for on-line training of recurrent network "
    "trajectories. *Neural Computation* 2(4).",
)


def references() -> None:
    """Where the facts come from, for readers who want the originals."""
    st.subheader("References")
    st.markdown("\n".join(f"- {ref}" for ref in REFERENCES))


SECTIONS = (
    recurrence,
    bptt,
    vanishing_exploding,
    truncation,
    clipping,
    relu_identity,
    lstm,
    gru,
    indrnn,
    lru,
    edge_of_chaos,
    pros_cons,
    references,
)

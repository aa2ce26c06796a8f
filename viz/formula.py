"""One step of BPTT as its formula, with this run's numbers: every number is read from the trace, none recomputed.

The numbers are batch means of per-sequence norms (the summary of Trace.grad_h), so a
ratio such as ‖∂L/∂h_{t−1}‖ / ‖∂L/∂h_t‖ is the factor the gradient curve shows for that
step. Each row names the trace record it was read from (`source`), so a test and a reader
can check it. The step back is t -> t-1, so t runs from 1 to T-1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Glosses after a relation, so that KaTeX can break the line there on a narrow screen (ui/page/backward_view.py).
DELTA = r"\quad\text{where } \delta_t = \text{the gates' pre-activation gradients}"
EXACT = r"\quad\text{each unit's factor, exactly} = |\lambda_i|"


@dataclass(frozen=True)
class Row:
    """One number of the formula: its symbol, value, the trace record it comes from, and what it means."""

    symbol: str  # plain text, e.g. "‖∂L/∂h_t‖"
    value: float
    source: str  # "grad_h[t]", "backward.carried[t]", "sigma_max", "gates.f[t].mean", "unit_decay.max", ...
    meaning: str = ""


@dataclass(frozen=True)
class StepFormula:
    """The formula of one step back (LaTeX), its numbers, and one sentence that reads them."""

    step: int
    kind: str  # "matrix", "cell path", "direct path", "diagonal", "complex diagonal"
    latex: list[str]
    rows: list[Row] = field(default_factory=list)
    summary: str = ""


def kind_of(trace) -> str:
    """Which formula applies: from the cell's declared direct path (Trace.cell_info), else from what the trace records."""
    info = getattr(trace, "cell_info", None) or {}
    direct = info.get("direct") or {}
    if direct.get("state") == "c" or (not info and trace.grad_c is not None):
        return "cell path"
    if direct.get("factor") == "unit" or (not info and getattr(trace, "unit_decay", None) is not None):
        return "complex diagonal" if info.get("complex_state", "h" not in trace.saturation) else "diagonal"
    if direct or (not info and "z" in trace.gates):
        return "direct path"
    return "matrix"


def lookup(trace, source: str) -> float:
    """The value a Row's source names, read from the trace (the inverse of how rows are built)."""
    name, _, rest = source.partition("[")
    index = int(rest.split("]")[0]) if rest else None
    tail = source.rsplit(".", 1)[-1] if source.endswith((".mean", ".max", ".min")) else None
    if name.startswith("backward."):
        arr = trace.backward[name.split(".", 1)[1]]
    elif name.startswith("gates."):
        arr = trace.gates[name.split(".", 1)[1]]
    elif name.startswith("unit_decay"):
        arr = trace.unit_decay
    else:
        arr = getattr(trace, name)
    value = np.asarray(arr, dtype=np.float64)
    if index is not None:
        value = value[index]
    if tail:
        value = getattr(value, tail)()
    return float(value)


def _ratio(a: float, b: float) -> float:
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b)) if b != 0 else float("nan")


def step_formula(trace, t: int) -> StepFormula:
    """The backward formula of the step h_t -> h_{t-1} with this run's numbers (t from 1 to T-1)."""
    T = len(trace.grad_h)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t < T:
        raise ValueError(f"step must be an integer from 1 to {T - 1} (got {t!r})")
    if getattr(trace, "backward", None) is None:
        raise ValueError("this trace has no backward terms: run it with engine.run(cfg, terms=True)")
    t, kind = int(t), kind_of(trace)
    rows, latex = [], []

    def row(symbol, source, meaning=""):
        rows.append(Row(symbol, lookup(trace, source.replace("[t]", f"[{t}]").replace("[t-1]", f"[{t - 1}]")), source, meaning))

    row("‖∂L/∂h_t‖", "grad_h[t]", "the gradient that reached h_t")
    if kind == "matrix":
        latex.append(r"\frac{\partial L}{\partial h_{t-1}} = W_{hh}^{\top}\left(\varphi'(a_t) \odot \frac{\partial L}{\partial h_t}\right)")
        row("‖diag φ′(a_t)‖ = max φ′(a_t)", "backward.deriv_max[t]", "the activation's largest slope at this step")
        row("mean φ′(a_t)", "backward.deriv_mean[t]", "its mean slope over the units")
        row("‖φ′(a_t) ⊙ ∂L/∂h_t‖", "backward.gated[t]", "after the activation's slope")
        row("σ_max(W_hh)", "sigma_max", "the most W_hhᵀ can stretch a vector")
    elif kind == "cell path":
        latex.append(
            r"\frac{\partial L}{\partial c_{t-1}} = f_t \odot \frac{\partial L}{\partial c_t}"
            r" + o_{t-1} \odot \tanh'(c_{t-1}) \odot \frac{\partial L}{\partial h_{t-1}}"
        )
        latex.append(r"\frac{\partial L}{\partial h_{t-1}} = W_{hh}^{\top}\,\delta_t" + DELTA)
        row("mean f_t", "gates.f[t].mean", "the forget gate: the cell path's factor")
        row("‖∂L/∂c_t‖", "grad_c[t]", "the gradient on the cell state")
        row("‖f_t ⊙ ∂L/∂c_t‖", "backward.carried_inner[t]", "what the cell path carries to c_{t−1}")
        row("‖∂L/∂c_{t−1}‖", "grad_c[t-1]", "the whole gradient on c_{t−1} (cell path + the h path's share)")
        row("‖δ_t‖", "backward.gated[t]", "gradient of the gates' pre-activations")
        row("σ_max (largest gate block of W_hh)", "sigma_max", "the most a gate block of W_hhᵀ can stretch a vector")
    elif kind == "direct path":
        latex.append(r"\frac{\partial L}{\partial h_{t-1}} = z_t \odot \frac{\partial L}{\partial h_t} + W_{hh}^{\top}\,\delta_t")
        gate = ((getattr(trace, "cell_info", None) or {}).get("direct") or {}).get("factor", "z")
        row(f"mean {gate}_t", f"gates.{gate}[t].mean", "the gate that scales the direct path")
        row(f"‖{gate}_t ⊙ ∂L/∂h_t‖", "backward.direct[t]", "what the direct path carries, skipping W_hh")
        row("‖δ_t‖", "backward.gated[t]", "gradient of the gates' pre-activations")
        row("σ_max (largest gate block of W_hh)", "sigma_max", "the most a gate block of W_hhᵀ can stretch a vector")
    elif kind == "diagonal":
        latex.append(r"\frac{\partial L}{\partial h_{t-1,i}} = u_i\,\varphi'(a_{t,i})\,\frac{\partial L}{\partial h_{t,i}}")
        row("max |u_i|", "unit_decay.max", "the largest per-unit recurrent weight")
        row("min |u_i|", "unit_decay.min", "the smallest")
        row("max φ′(a_t)", "backward.deriv_max[t]", "the activation's largest slope at this step")
        row("mean φ′(a_t)", "backward.deriv_mean[t]", "its mean slope over the units")
    else:
        latex.append(r"\frac{\partial L}{\partial h_{t-1,i}} = \overline{\lambda_i}\,\frac{\partial L}{\partial h_{t,i}}" + EXACT)
        row("max |λ_i|", "unit_decay.max", "the slowest unit's factor per step")
        row("min |λ_i|", "unit_decay.min", "the fastest unit's factor per step")
    row("‖∂L/∂h_{t−1}‖ from step t", "backward.carried[t]", "what this step hands back")
    row("‖∂L/∂h_{t−1}‖", "grad_h[t-1]", "the whole gradient on h_{t−1} (with any loss at t−1)")
    g_t, g_prev = rows[0].value, lookup(trace, f"grad_h[{t - 1}]")
    factor = _ratio(g_prev, g_t)
    loss_here = (t - 1) in set(int(s) for s in trace.loss_steps)
    where = " (a loss at t−1 adds its own gradient)" if loss_here else ""
    summary = f"Step {t} → {t - 1}: ‖∂L/∂h‖ goes from {g_t:.4g} to {g_prev:.4g}, a factor of {factor:.4g}{where}."
    if kind == "matrix":
        dmax, smax = lookup(trace, f"backward.deriv_max[{t}]"), float(trace.sigma_max)
        summary += f" Bound: σ_max · max φ′ = {smax:.4g} · {dmax:.4g} = {smax * dmax:.4g} per step."
    elif kind == "cell path":
        summary += f" The cell path keeps f̄ = {lookup(trace, f'gates.f[{t}].mean'):.3g} of ∂L/∂c per step."
    return StepFormula(step=t, kind=kind, latex=latex, rows=rows, summary=summary)

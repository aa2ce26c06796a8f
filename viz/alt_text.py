"""Every chart's one-sentence text alternative, built from the chart's own records (one place for all of them).

A screen reader hears it with the chart (ui.page.charts.chart writes it hidden under the chart and
hands it to ui/page/plotly_chart.js for the chart's aria-label). It says what the chart shows in
this run's numbers: the measured factor per step and where the gradient vanishes or overflows
(every trace chart), the loss from first to last step (training), or what input, target and
prediction show (the task). Numpy only: the same numbers the figures are built from.
"""

from __future__ import annotations

import numpy as np

VANISHED = 1e-6  # "vanishes": below a millionth of the gradient at the last loss


def _fmt(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{v:.3g}"


def _ratio(a, b) -> float:
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b)) if b != 0 else float("nan")


def gradient(trace, start: int | None = None, last: int | None = None) -> str:
    """The measured factor per step from the last loss back to `start`, and where the gradient vanishes or overflows."""
    g = np.asarray(trace.grad_h, dtype=np.float64)
    last = int(max(trace.loss_steps)) if last is None else last
    start = 0 if start is None else start
    span = g[start : last + 1]
    bad = np.flatnonzero(~np.isfinite(g))
    with np.errstate(all="ignore"):
        steps = last - start
        ends = span[0], span[-1]
        mean = (ends[0] / ends[1]) ** (1 / steps) if steps and ends[1] > 0 and np.isfinite(ends[0]) else float("nan")
        tiny = np.flatnonzero((g[: last + 1] < g[last] * VANISHED) & np.isfinite(g[: last + 1]))
    words = (
        f"The gradient travels back from the loss at step {last} to step {start}, multiplied by a measured {_fmt(mean)} per step on average"
    )
    if bad.size:
        words += f"; it overflows (not finite) at step {int(bad.max())}"
    elif tiny.size:
        words += f"; it vanishes (below a millionth of its start) from step {int(tiny.max())} back"
    elif steps:
        words += f"; after {steps} steps it is {_fmt(_ratio(ends[0], ends[1]))} of its start"
    return words + "."


def training(log) -> str:
    """The loss from the first training step to the last, and the last snapshot's gradient in gradient()'s words."""
    steps = np.asarray(log.history.get("step", []), dtype=np.float64)
    loss = np.asarray(log.history.get("loss", []), dtype=np.float64)
    if not len(steps):
        return "Training: no training steps yet."
    words = f"Training: the loss went from {_fmt(loss[0])} at step {int(steps[0])} to {_fmt(loss[-1])} at step {int(steps[-1])}"
    words += f" over {len(steps)} steps"
    bad = np.flatnonzero(~np.isfinite(loss))
    if bad.size:
        words += f"; it overflows (not finite) from step {int(steps[bad[0]])}"
    words += "."
    last = getattr(log, "last", None)
    if last is not None:
        words += f" At the snapshot of step {last.step}: " + gradient(last.trace)
    return words


def task(before: dict, after: dict | None = None, after_step: int | None = None) -> str:
    """What the task chart shows: one sequence's input, its target, and the predictions (untrained; after training)."""
    T = len(before["input"])
    shown = "the untrained network's prediction"
    if after is not None:
        shown += " and the prediction after training" + (f" (step {after_step})" if after_step is not None else "")
    words = f"The task, {before['description']}: one input sequence of {T} steps, its target at {len(before['target'])} steps, and {shown}"
    if before["kind"] == "mse":
        for name, ex in (("untrained", before), ("trained", after)):
            if ex is not None:
                words += f"; {name} mean squared error {_fmt(_mse(ex))}"
    else:
        for name, ex in (("untrained", before), ("trained", after)):
            if ex is not None:
                words += f"; {name} mean probability of the right answer {_fmt(float(np.mean(ex['p_target'])))}"
    return words + "."


def _mse(example: dict) -> float:
    """Mean squared error of the read-out at the loss steps (the steps the target is scored at)."""
    steps = np.asarray(example["loss_steps"], dtype=np.int64)
    with np.errstate(all="ignore"):
        return float(np.mean((np.asarray(example["prediction"])[steps] - np.asarray(example["target"])) ** 2))


def phase(record) -> str:
    """The phase diagram: end-to-end ratio at the smallest and largest swept value, and where it vanishes or overflows."""
    values = np.asarray(record.scales, dtype=np.float64)
    end = np.asarray(record.log_ratio, dtype=np.float64)[:, -1]  # log10 of ||dL/dh_0|| / ||dL/dh_{T-1}|| per value
    T = len(record.distance)
    axis = record.axis.replace("_", " ")
    with np.errstate(all="ignore"):
        ratio = 10.0**end
    words = (
        f"Phase diagram over the {axis} from {_fmt(values[0])} to {_fmt(values[-1])}: after {T - 1} steps back the gradient is "
        f"{_fmt(ratio[0])} of its start at {_fmt(values[0])} and {_fmt(ratio[-1])} at {_fmt(values[-1])}"
    )
    over = np.asarray(record.overflow, dtype=bool) | ~np.isfinite(end) & (end > 0)
    gone = np.isfinite(end) & (ratio < VANISHED) | (end == -np.inf)
    if gone.any():
        words += f"; it vanishes (below a millionth) at {int(gone.sum())} of {len(values)} values, up to {_fmt(values[gone].max())}"
    if over.any():
        words += f"; it overflows at {int(over.sum())} values, from {_fmt(values[over].min())}"
    return words + "."

"""The task on screen: one input sequence, its target and the model's prediction, as plain numpy (the task chart's record).

A snapshot carries it with the weights of that moment, so the first snapshot (before any
update) and the last one show what training changed on the same sequence. Regression tasks
keep the raw prediction; classification tasks (copy, text) keep the predicted class and the
probability given to the right one, not all class probabilities (97 per step for text).
"""

from __future__ import annotations

import numpy as np

from .data import ALPHABET
from .tasks import TASKS, Batch


def example_record(task: str, batch: Batch, y: np.ndarray) -> dict:
    """{input, target, prediction, ...} of sequence 0 of `batch`, from the read-out's outputs y (T, O)."""
    info = TASKS[task]
    steps = np.asarray(batch.loss_steps, dtype=np.int64)
    out = {"task": task, "kind": batch.kind, "loss_steps": steps, "measures": info.measures, "description": info.description}
    if batch.kind == "mse":
        out["input"] = np.asarray(batch.x[:, 0], dtype=np.float64)  # (T, I)
        out["target"] = np.asarray(batch.target[:, 0, 0], dtype=np.float64)  # (L,) one output per loss step
        out["prediction"] = y[:, 0].astype(np.float64)  # (T,) the read-out at every step (only loss steps are scored)
        return out
    z = y - y.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    target = np.asarray(batch.target[:, 0], dtype=np.int64)  # (L,) class indices
    out["input"] = np.asarray(batch.x[:, 0].argmax(axis=1), dtype=np.int64)  # (T,) the one-hot input as its class
    out["target"] = target
    out["prediction"] = prob.argmax(axis=1).astype(np.int64)  # (T,) the most probable class
    out["p_target"] = prob[steps, target]  # (L,) probability given to the right class
    if task == "text":
        out["input_chars"] = "".join(ALPHABET[i] for i in out["input"])
        out["target_chars"] = "".join(ALPHABET[i] for i in target)
        out["prediction_chars"] = "".join(ALPHABET[i] for i in out["prediction"])
    return out

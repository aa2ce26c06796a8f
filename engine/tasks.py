"""Synthetic sequence tasks, generated from a seed (no downloads), and where their loss sits.

- adding: two streams (values in [0, 1], a marker on two steps); answer the sum of the two
  marked values at the last step (Hochreiter & Schmidhuber 1997). Loss at the last step.
- first: remember the first input (N(0, 1), the rest is noise) until the last step.
- copy: delayed recall of one of 4 symbols: the target at step t is the symbol seen at
  t - d (d = copy_delay(T)), a blank class before that. Cross-entropy at every step.
- sine: next-step prediction of a noisy sine of random frequency and phase. Every step.

Real data (engine/data.py: windows, split, normalisation): nile, co2, sunspots (bundled
series) and series (the user's own numbers): next-step prediction, a loss at every step;
text: the next character of a passage (bundled, or the user's), cross-entropy at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import VOCAB

COPY_SYMBOLS = 4


@dataclass(frozen=True)
class TaskInfo:
    input_size: int
    output_size: int
    loss_at: str  # "last" (many-to-one) or "every" (many-to-many)
    kind: str  # "mse" or "ce"
    trivial_loss: float  # loss of a constant prediction (approximate for copy), for judging training
    description: str
    measures: str = ""  # one sentence: what the loss measures (the task chart says it)


_NEXT_VALUE = (
    "The loss is the squared error of the predicted next value at every step, in units of the training split's "
    "standard deviation: always predicting the mean scores about 1."
)
TASKS = {
    "adding": TaskInfo(
        2,
        1,
        "last",
        "mse",
        1.0 / 6.0,
        "add the two marked numbers; answer at the last step",
        "The loss is the squared error of the answer at the last step against the sum of the two marked numbers: "
        "always answering their mean sum scores 1/6.",
    ),
    "first": TaskInfo(
        1,
        1,
        "last",
        "mse",
        1.0,
        "recall the first input at the last step",
        "The loss is the squared error of the answer at the last step against the first input: always answering 0 scores 1.",
    ),
    "copy": TaskInfo(
        COPY_SYMBOLS,
        COPY_SYMBOLS + 1,
        "every",
        "ce",
        float(np.log(COPY_SYMBOLS)),
        "repeat each symbol d steps later",
        "The loss is the cross-entropy at every step of the symbol seen d steps earlier (a blank before that): "
        "guessing among the 4 symbols scores about ln 4 = 1.39.",
    ),
    "sine": TaskInfo(
        1,
        1,
        "every",
        "mse",
        0.5,
        "predict the next value of a noisy sine",
        "The loss is the squared error of the predicted next value at every step against the clean sine "
        "(the noise cannot be predicted): always answering 0 scores 1/2.",
    ),
    "nile": TaskInfo(1, 1, "every", "mse", 1.0, "real data: predict next year's flow of the Nile (1871-1970)", _NEXT_VALUE),
    "co2": TaskInfo(1, 1, "every", "mse", 1.0, "real data: predict next month's CO2 at Mauna Loa (1964-2001)", _NEXT_VALUE),
    "sunspots": TaskInfo(1, 1, "every", "mse", 1.0, "real data: predict next year's sunspot number (1700-2008)", _NEXT_VALUE),
    "series": TaskInfo(1, 1, "every", "mse", 1.0, "your own series: predict its next value", _NEXT_VALUE),
    "text": TaskInfo(
        VOCAB,
        VOCAB,
        "every",
        "ce",
        3.0,  # about the letter-frequency entropy of English text (the bundled passage: 2.9 nats)
        "predict the next character of a text (one-hot characters)",
        f"The loss is the cross-entropy of the next character at every step, in nats: guessing among the {VOCAB} "
        f"symbols scores ln {VOCAB} = {np.log(VOCAB):.2f}, knowing only letter frequencies about 3.",
    ),
}
DATA_TASKS = {"nile": "series", "co2": "series", "sunspots": "series", "series": "series", "text": "text"}  # task -> kind of data


@dataclass(frozen=True)
class Batch:
    """Inputs, targets and the time steps that carry a loss (numpy)."""

    x: np.ndarray  # (T, B, I)
    target: np.ndarray  # (L, B, O) floats for mse, (L, B) class indices for ce
    loss_steps: np.ndarray  # (L,) time steps with a loss
    kind: str

    def row_targets(self) -> np.ndarray:
        """A target for every step: a many-to-one task's final target asked for at each step."""
        if len(self.loss_steps) == self.x.shape[0]:
            return self.target
        return np.broadcast_to(self.target[-1:], (self.x.shape[0],) + self.target.shape[1:])


def copy_delay(seq_len: int) -> int:
    return max(1, min(10, seq_len // 2))


def make_batch(task: str, seq_len: int, batch_size: int, rng: np.random.Generator) -> Batch:
    T, B = seq_len, batch_size
    last = np.array([T - 1])
    if task == "adding":
        values = rng.uniform(0.0, 1.0, (T, B))
        markers = np.zeros((T, B))
        half = max(1, T // 2)
        first = rng.integers(0, half, B)
        second = rng.integers(half, T, B)
        markers[first, np.arange(B)] = 1.0
        markers[second, np.arange(B)] = 1.0
        target = (values * markers).sum(axis=0)[None, :, None]
        return Batch(np.stack([values, markers], axis=-1), target, last, "mse")
    if task == "first":
        x = rng.standard_normal((T, B, 1))
        return Batch(x, x[:1].copy(), last, "mse")
    if task == "copy":
        symbols = rng.integers(0, COPY_SYMBOLS, (T, B))
        x = np.eye(COPY_SYMBOLS)[symbols]
        d = copy_delay(T)
        target = np.full((T, B), COPY_SYMBOLS)
        target[d:] = symbols[: T - d]
        return Batch(x, target, np.arange(T), "ce")
    if task == "sine":
        omega = rng.uniform(0.1, 0.5, B)
        phase = rng.uniform(0.0, 2 * np.pi, B)
        t = np.arange(T + 1)[:, None]
        clean = np.sin(omega * t + phase)
        x = (clean[:T] + 0.1 * rng.standard_normal((T, B)))[..., None]
        return Batch(x, clean[1:, :, None], np.arange(T), "mse")
    raise ValueError(f"task: unknown task {task!r}")

"""The Training tab's defaults visibly train: an LSTM learns the adding problem at T=50 within the default steps; an RNN at T=100 not."""

import numpy as np

from engine import TASKS, Config, train
from engine.config import field_info

DEFAULT_STEPS = field_info("steps")["default"]  # the page's, the CLI's and train()'s (TrainingConfig)
SPARSEST = field_info("every")["hi"]  # the fewest snapshots the table allows: the losses between them are in each one's history

TRIVIAL = TASKS["adding"].trivial_loss  # 1/6: always answering the mean of the sum


def _last_losses(cfg: Config, n: int = 100) -> np.ndarray:
    out = []
    for snap in train(cfg, DEFAULT_STEPS, every=SPARSEST):
        out.extend(snap.history["loss"])
    return np.asarray(out[-n:])


def test_lstm_at_t50_learns_within_the_default_steps():
    """Seed 0 (the page's default): the last 100 steps' mean loss is under a tenth of the trivial loss (measured 0.002)."""
    assert _last_losses(Config(cell="lstm", seq_len=50)).mean() < TRIVIAL / 10


def test_rnn_at_t100_does_not():
    """The contrast the Training tab teaches: the RNN at T=100 stays at the trivial loss (measured 0.196 at seed 0)."""
    assert _last_losses(Config(cell="rnn", seq_len=100)).mean() > 0.8 * TRIVIAL

"""Training as a generator of snapshots, so a caller can draw each one as it arrives."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import memory
from .config import Config, TrainingConfig
from .cost import estimate
from .model import Model
from .optim import make_optimizer
from .trace import Snapshot

HISTORY = ("step", "loss", "grad_norm_before", "grad_norm_after", "clipped")


def train(
    cfg: Config,
    steps: int,
    every: int = TrainingConfig.every,
    connectivity: bool = False,
    conn_rows=None,
    conn_batch=None,
    conn_full: bool = False,
    stop=None,
    data=None,
) -> Iterator[Snapshot]:
    """Train for `steps` steps on fresh batches; yield a Snapshot at step 0, every `every` steps and at the end.

    Each step: forward + (truncated) BPTT, clipping, one optimiser update with the clipped
    gradients. The snapshot's trace is measured on that step's batch before its update.
    When the loss or the gradients stop being finite, a last snapshot with
    diverged=True is yielded and training ends: further updates would only spread NaNs.
    Stopping early is just not asking for the next snapshot; no work runs ahead. `stop` (an
    object with is_set(), e.g. a threading.Event) is checked before every step, so another
    thread can end the work within one step even while a snapshot is being computed.
    data: the series or text of task 'series' or 'text' (engine/data.py). Every snapshot's trace
    carries `example`, the task chart's prediction with the weights of that moment.
    """
    TrainingConfig(steps=steps, every=every)  # the one range of both (ConfigError, a ValueError, names the field)
    need = estimate(cfg, connectivity, train_steps=steps, every=every, conn_rows=conn_rows, conn_batch=conn_batch).bytes
    memory.check_config(cfg, need, "this training")  # TooBig (a MemoryError) before allocating
    model = Model(cfg, data)
    tensors = list(model.params.values())
    optimizer = make_optimizer(cfg.optimizer, tensors, cfg.lr)
    history = {k: [] for k in HISTORY}
    for step in range(steps):
        if stop is not None and stop.is_set():
            return
        batch = model.batch(step)
        p = model.forward_backward(batch)
        clip_result = model.clip(p.grads)
        grads, before, after, clipped = clip_result
        loss = float(p.loss_seq.double().mean())
        for key, value in zip(HISTORY, (step, loss, before, after, clipped)):
            history[key].append(value)
        diverged = not (np.isfinite(loss) and np.isfinite(after))
        if diverged or step % every == 0 or step == steps - 1:
            trace = model.record(batch, p, clip_result, connectivity, conn_rows, conn_batch, conn_full, first_batch=step == 0)
            yield Snapshot(step=step, trace=trace, history={k: np.asarray(v) for k, v in history.items()}, diverged=diverged)
            history = {k: [] for k in HISTORY}
        if diverged:
            return
        optimizer.step([grads[name] for name in model.params])
        model.version += 1
        del p, clip_result, grads  # the tape goes before the next step builds its own: one tape alive, not two (~2x memory)

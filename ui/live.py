"""Live training: Run streams snapshots into charts that update in place; Stop ends the work for good.

Any rerun interrupts the loop inside an st call, between two snapshots. The engine's
generator is kept with the run, so after a rerun that did not stop it (switching tabs,
a toggle) training picks up where it was; Stop closes it; a new Config discards it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import streamlit as st

import engine
from viz import gradients, training

from .views import CHART, overflow_notice

MIN_REDRAW_S = 0.05  # at most ~20 chart updates a second; snapshots arriving faster are drawn together


def _warm_up() -> None:
    from engine.training import warm_up

    warm_up()


# Once per server process: pay torch's one-off optimiser imports (~3 s) now, not on the first Run click.
threading.Thread(target=_warm_up, name="optimizer-warm-up", daemon=True).start()


@dataclass
class TrainingRun:
    """One press of Run: its settings, the log it grows and the paused engine generator, kept in session state."""

    config: engine.Config
    steps: int
    every: int
    log: engine.TrainingLog = field(default_factory=engine.TrainingLog)
    status: str = "running"  # running | finished | stopped | diverged
    snapshots: Iterator | None = None
    # With fast reruns the interrupted script thread can still be inside next() when the new one starts.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self):
        self.snapshots = engine.train(self.config, self.steps, self.every)

    def pull(self) -> bool:
        """Train up to the next snapshot and log it; False once training is over."""
        with self.lock:
            if self.status != "running":
                return False
            snap = next(self.snapshots, None)
            if snap is None:
                self.status = "diverged" if self.log.diverged else "finished"
                return False
            self.log.add(snap)
            return True

    def stop(self) -> None:
        """Close the generator: no step runs after this."""
        with self.lock:
            self.snapshots.close()
            if self.status == "running":
                self.status = "stopped"

    def figure(self):
        """Loss, gradient heatmap and clipping in one figure: one chart update per snapshot."""
        threshold = self.config.clip_threshold if self.config.clip == "norm" else None  # value clipping bounds elements
        with self.lock:
            return training.training_dashboard(self.log, baseline=baseline(self.config), threshold=threshold)

    @property
    def done(self) -> int:
        """Training steps completed so far."""
        return len(self.log.history.get("step", ()))


def baseline(cfg: engine.Config) -> float:
    """Loss of a constant prediction: the line a trained network must get below."""
    return engine.TASKS[cfg.task].trivial_loss


def stream(run: TrainingRun, progress, chart) -> None:
    """Pull snapshots, redrawing the chart (throttled); a rerun raises inside an st call and pauses the work here."""
    last_draw, n = time.perf_counter(), 0
    while run.pull():
        n += 1
        progress.progress(run.done / run.steps, text=f"Step {run.done} of {run.steps}")  # also where a rerun stops us
        if time.perf_counter() - last_draw >= MIN_REDRAW_S or run.done == run.steps or run.log.diverged:
            chart.plotly_chart(run.figure(), key=f"fig_train_{n}", **CHART)
            last_draw = time.perf_counter()


def report(run: TrainingRun) -> None:
    """Say how the run ended, in words."""
    if run.status == "diverged":
        st.error(f"Training stopped at step {run.done - 1}: values became non-finite.")
        overflow_notice(run.log.last.trace)
    elif run.status == "stopped":
        st.warning(f"Stopped after {run.done} of {run.steps} steps. Press Run to start again.")
    elif run.status == "finished":
        loss = run.log.arrays()["loss"]
        st.success(
            f"Finished {run.steps} steps: loss {loss[0]:.4g} -> {loss[-1]:.4g} (a constant guess scores {baseline(run.config):.4g})."
        )


def training_tab(cfg: engine.Config, steps: int, every: int, visible: bool = True, allowed: bool = True) -> None:
    """Tab 2: Run / Stop, a progress bar and the live dashboard; the last run stays until the Config changes."""
    state = st.session_state
    run = state.get("training_run")
    if run is not None and run.config != cfg:  # a new Config makes the old curves meaningless
        run.stop()
        del state["training_run"]
        run = None
    if not allowed:
        if visible:
            st.info("Training waits for the go-ahead above the tabs.")
        return
    running = run is not None and run.status == "running"
    if not visible and not running:
        return  # a hidden, idle tab costs nothing
    left, right, _ = st.columns([1, 1, 4])
    start = left.button("Run training", type="primary", key="train_start", icon=":material/play_arrow:")
    stop = right.button("Stop", key="train_stop", icon=":material/stop:", help="Stops the training for good; what it drew so far stays.")
    if stop and run is not None:
        run.stop()
    if start:
        if run is not None:
            run.stop()
        run = state["training_run"] = TrainingRun(cfg, steps, every)
    if run is None:
        st.info(f"Press Run to train for {steps} steps and watch the loss, the gradient over time and clipping update live.")
        return
    progress, chart = st.empty(), st.empty()
    if run.done:
        progress.progress(run.done / run.steps, text=f"Step {run.done} of {run.steps}")
        chart.plotly_chart(run.figure(), key="fig_train_kept", **CHART)
    if run.status == "running":
        stream(run, progress, chart)
    report(run)
    if run.log.last is not None and run.status != "running":
        st.plotly_chart(gradients.grad_norm_curve(run.log.last.trace), key="fig_train_grad", **CHART)
        st.caption(
            f"Gradient flow at the last snapshot (training step {run.log.last.step}): compare it with the untrained network in tab 1."
        )

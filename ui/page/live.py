"""Live training: Run trains in a worker thread; a fragment redraws its charts in place; Stop ends the work at once.

Why a worker: the script thread only draws, so a click (Stop, a slider, a tab) is answered
while training goes on, and Stop reaches the engine between two training steps instead of
after a whole snapshot. The charts live in a fragment that reruns on a timer while the run
is going, with fixed keys, so the browser updates the same chart in place (never removes and
re-adds it). The work also ends when the browser session goes away or when Streamlit's own
Stop interrupts the drawing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

import engine
from ui.serving import admission
from ui.serving.session_signal import SessionGone
from ui.serving.streamlit_private import StopException, script_session_id, session_is_connected
from viz import alt_text, gradients, task, training, training_gates

from . import charts, compare, compute, lost_run, own_data
from .lockstep import Lockstep
from .switch_interval import SwitchInterval
from .views import overflow_notice

REFRESH_S = 0.03  # the fragment reruns this long after the last redraw ended: ~10 chart updates a second
SWITCH_INTERVAL_S = 0.0005  # the GIL's hand-over while a worker trains (ui/page/switch_interval.py says why)
QUICK_SWITCH = SwitchInterval(SWITCH_INTERVAL_S)  # shared by every worker of the process
GATE_REDRAW_S = 1.0  # the gate-over-training view redraws at most once a second while a run goes
MAX_PENDING = 20  # snapshots kept back for the next redraw; beyond this (a hidden tab) they go straight to the log


@dataclass
class TrainingRun:
    """One press of Run: its settings, the log the worker grows, and how it ended; kept in session state."""

    config: engine.Config
    steps: int
    every: int
    log: engine.TrainingLog = field(default_factory=engine.TrainingLog)
    status: str = "running"  # running | finished | stopped | diverged | failed
    reason: str = ""  # why it stopped, in words
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    version: int = 0  # snapshots logged so far (a redraw with nothing new reuses the last figure)
    pending: list = field(default_factory=list, repr=False)  # snapshots the worker made since the last redraw
    label: str = ""  # for a compared run: how its settings differ ("vs. cell=lstm")
    queued: int = 0  # place in this server's line of engine jobs while the run waits for a slot (0: not waiting)
    stopped_at: int | None = None  # steps on screen when Stop was handled: the run's last step shown, and its last logged
    pace: Lockstep | None = field(default=None, repr=False)  # shared with the run it is compared with: steps taken together
    stopper: SessionGone | None = field(default=None, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)
    _figure: tuple = field(default=(-1, None, 0.0), repr=False)  # (versions drawn, figures, when the gate view was built)
    data: object = field(default=None, repr=False)  # your own series or text (ui/page/own_data.py), held for the worker thread
    first_example: dict | None = None  # the task chart's prediction before training (the first snapshot's)

    def start(self) -> TrainingRun:
        self.stopper = SessionGone(script_session_id())
        self.thread = threading.Thread(target=self._work, name="training", daemon=True)
        self.thread.start()
        return self

    def _work(self) -> None:
        with QUICK_SWITCH:  # the process's own interval comes back when the last worker ends
            self._train()

    def _train(self) -> None:
        seconds, nbytes = compute.estimate(self.config, train_steps=self.steps, every=self.every)
        try:
            # A job slot for the whole run (other sessions' work waits its turn), then the server's time budget.
            with admission.training_slot(seconds, self.stopper, on_wait=lambda k: setattr(self, "queued", k), nbytes=nbytes) as budget:
                self.queued = 0
                paced = self.pace.gate(self, budget) if self.pace is not None else budget  # beside a compared run: in step
                for snap in engine.train(self.config, self.steps, self.every, stop=paced, data=self.data):
                    with self.lock:
                        if self.status != "running":  # stopped while this snapshot was computed
                            return
                        self.pending.append(snap)
                        if len(self.pending) > MAX_PENDING:  # nobody is drawing (the tab is hidden): log them now
                            self._drain()
        except admission.Abandoned:
            self._end("stopped", "Stop was pressed while it waited in line")
            return
        except Exception:  # the visitor reads a generic line (never the exception's text); the server log has it all
            logging.getLogger(__name__).exception("training failed: %s, %d steps", self.config.to_query(), self.steps)
            self._end("failed", "training failed; the server log has the details")
            return
        with self.lock:
            self._drain()
        if self.stopper.event.is_set():
            self._end("stopped", "the browser session ended")
        elif budget.spent and self.done < self.steps:
            self._end("stopped", budget.message())
        else:
            self._end("diverged" if self.log.diverged else "finished")

    def _drain(self) -> None:
        """Move the snapshots waiting to be drawn into the log (under the lock)."""
        for snap in self.pending:
            if self.first_example is None:
                self.first_example = snap.trace.example
            self.log.add(snap)
            self.version += 1
        self.pending.clear()

    def _end(self, status: str, reason: str = "") -> None:
        with self.lock:
            if self.status == "running":
                self.status, self.reason = status, reason

    def stop(self, reason: str = "Stop was pressed") -> None:
        """Freeze the charts as they are on screen and end the work before the next training step.

        Snapshots computed since the last redraw were never shown: they are dropped, so the page
        stops exactly where the user saw it, and the step count it reports matches the charts.
        """
        with self.lock:  # one hold: no snapshot slips in between the clear and the status change
            if self.status == "running":
                self.pending.clear()
                self.status, self.reason = "stopped", reason
                self.stopped_at = len(self.log.history.get("step", ()))
        if self.stopper is not None:
            self.stopper.set()

    def figures(self, compared: TrainingRun | None = None) -> tuple | None:
        """(loss, gradient heatmap and clipping; a gate over training) with the new snapshots logged; None before any.

        With a compared run, its new snapshots are logged too and its loss and gradient norm join
        this run's panels: both runs on one pair of axes. The dashboard is rebuilt when a new
        snapshot arrived; the gate view, secondary, at most every GATE_REDRAW_S while the run goes
        (each redraw costs the browser ~40 ms of its main thread), once more when the run ends by
        itself, and not after Stop, which freezes it as shown.
        """
        threshold = self.config.clip_threshold if self.config.clip == "norm" else None  # value clipping bounds elements
        with self.lock, compared.lock if compared is not None else contextlib.nullcontext():
            for run in (self, compared):
                if run is not None and run.status == "running":
                    run._drain()
            if self.version == 0:
                return None
            version, figs, gate_at = self._figure
            seen = (self.version, None if compared is None else (id(compared), compared.version))
            if version != seen:
                other = None if compared is None else (compared.log, compared.label, baseline(compared.config))
                dashboard = training.training_dashboard(
                    self.log, baseline=baseline(self.config), threshold=threshold, compare=other, total=self.steps
                )
                gate_view = figs[1] if figs else None
                if gate_view is None or self.status not in ("running", "stopped") or time.monotonic() - gate_at >= GATE_REDRAW_S:
                    gate_view, gate_at = training_gates.gate_dashboard(self.log), time.monotonic()
                self._figure = (seen, (dashboard, gate_view), gate_at)
            return self._figure[1]

    @property
    def done(self) -> int:
        """Training steps completed so far."""
        with self.lock:
            return len(self.log.history.get("step", ()))


def baseline(cfg: engine.Config) -> float:
    """Loss of a constant prediction: the line a trained network must get below."""
    return engine.TASKS[cfg.task].trivial_loss


def report(run: TrainingRun) -> None:
    """Say how the run ended, in words."""
    if run.status == "diverged":
        st.error(f"Training stopped at step {run.done - 1}: values became non-finite.")
        overflow_notice(run.log.last.trace)
    elif run.status == "stopped":
        st.warning(f"Training stopped after {run.done} of {run.steps} steps ({run.reason}). Press Run to start again.")
    elif run.status == "failed":
        st.error(f"Training failed after {run.done} steps: {run.reason}")
    elif run.status == "finished":
        loss = run.log.arrays()["loss"]
        st.success(f"Finished {run.steps} steps: loss {loss[0]:.4g} → {loss[-1]:.4g} (a constant guess scores {baseline(run.config):.4g}).")


def _stop_pressed() -> None:
    for run in runs():
        run.stop()


def runs() -> list:
    """The runs on screen: the one started by Run and, when a comparison is set, the compared configuration's."""
    return [r for r in (st.session_state.get("training_run"), st.session_state.get(VS_KEY)) if r is not None]


VS_KEY = "training_run_vs"  # the compared configuration's run, trained side by side


def differences(old: engine.Config, new: engine.Config) -> str:
    """The fields two Configs differ in, as 'T 50 → 120' phrases."""
    a, b = old.to_dict(), new.to_dict()
    return ", ".join(f"{k} {a[k]} → {b[k]}" for k in a if a[k] != b[k])


def live_panel(stop_slot) -> None:
    """Stop, progress and the live dashboard; the fragment around it reruns on a timer while the run is going.

    Stop lives in the fragment, so its click reruns only this panel: the worker ends, the charts
    take their final state at once, and only then does a full rerun say how the run ended.
    """
    run = st.session_state.get("training_run")
    going = any(r.status == "running" for r in runs())
    stop_slot.button(
        "Stop",
        key="train_stop",
        icon=":material/stop:",
        on_click=_stop_pressed,
        disabled=not going,
        help="Stops the training for good; what it drew so far stays.",
    )
    if run is None:
        return
    try:
        _draw(runs())
        lost_run.mark(run.done if run.status == "running" else None)
        if not going and st.session_state.get("_drawn_running"):
            st.session_state["_drawn_running"] = False
            st.rerun(scope="app")  # the runs ended between two redraws: a full rerun says how, and stops the timer
    except StopException:  # Streamlit's own Stop (header menu) ends the training too, and the page says so
        if session_is_connected(script_session_id()):  # a dropped connection stops the script too: the run goes on
            for r in runs():
                r.stop("Streamlit's Stop was pressed")
        raise


def _draw(shown: list) -> None:
    """The progress and the dashboard: the run and, with a comparison set, the compared run on the same panels.

    The counter names the steps of each run the charts show (the two take their steps together, ui.page.lockstep).
    """
    run, others = shown[0], shown[1:]
    for r in shown:
        if r.status == "running" and r.queued:
            st.info((f"{r.label}: " if r.label else "") + admission.queued_note(r.queued))
    figs = run.figures(others[0] if others else None)  # first: it logs the new snapshots, so the counts match the charts
    text = f"Step {run.done} of {run.steps}" + "".join(f" · {r.label}: {r.done} of {r.steps}" for r in others)
    st.progress(min(run.done / run.steps, 1.0), text=text)
    if figs is not None:
        live = any(r.status == "running" for r in shown)
        alt = alt_text.training(run.log) + "".join(f" Compared ({r.label}): " + alt_text.training(r.log) for r in others)
        charts.chart(figs[0], key="fig_train", live=live, alt=alt)
        charts.chart(figs[1], key="fig_train_gates", live=live, alt=alt)


def training_tab(cfg: engine.Config, steps: int, every: int, visible: bool = True, allowed: bool = True) -> None:
    """Tab 2: Run / Stop, a progress bar and the live dashboard; the last run stays, with a note when settings changed."""
    state = st.session_state
    if not visible:
        return  # the worker trains on while the tab is hidden
    if not allowed:
        st.info("Training waits for the go-ahead above the tabs.")
        return
    run = state.get("training_run")
    left, right, _ = st.columns([1, 1, 4])
    if left.button("Run training", type="primary", key="train_start", icon=":material/play_arrow:"):
        for old in runs():
            old.stop("Run was pressed again")
        state.pop(VS_KEY, None)
        other = compare.other_config(cfg, state.get(compare.KEY, {}))[0]
        paired = other is not None and other != cfg and compute.affordable(other)
        pace = Lockstep() if paired else None  # side by side: both take their steps together, one chart compares them
        data = own_data.current(cfg)
        run = state["training_run"] = TrainingRun(cfg, steps, every, pace=pace, data=data).start()
        if paired:
            label = compare.label(cfg, other)
            state[VS_KEY] = TrainingRun(other, steps, every, label=label, pace=pace, data=own_data.current(other)).start()
        lost_run.register({key: state[key] for key in ("training_run", VS_KEY) if key in state})  # a reload here finds them
    running = any(r.status == "running" for r in runs())
    if run is None:
        right.button("Stop", key="train_stop", icon=":material/stop:", disabled=True)
        st.info(
            f"Press Run to train for {steps} steps and watch the loss, the gradient over time and clipping update live. "
            "With a comparison set (Gradient flow tab, or vs. in the link), both configurations train side by side, "
            "step for step, on the same charts."
        )
        return
    if run.config != cfg or (run.steps, run.every) != (steps, every):
        changed = differences(run.config, cfg) or f"steps {run.steps} → {steps}, every {run.every} → {every}"
        st.info(
            f"The settings changed since this run started ({changed}). "
            "The charts show the run as started; press Run to train with the new settings."
        )
    state["_drawn_running"] = running
    st.fragment(live_panel, run_every=REFRESH_S if running else None)(right)
    if not running:
        for r in runs():
            if r.label:
                st.markdown(f"**Compared run ({r.label}):**")
            report(r)
        if run.log.last is not None:
            last = run.log.last.trace
            charts.chart(gradients.grad_norm_curve(last), key="fig_train_grad", alt=alt_text.gradient(last))
            st.caption(
                f"Gradient flow at the last snapshot (training step {run.log.last.step}): compare it with the untrained network in tab 1."
            )
            task_chart(run)


def task_chart(run: TrainingRun) -> None:
    """The task on screen: one sequence, its target, and the prediction before training and at the last snapshot."""
    last = run.log.last
    if run.first_example is None or last is None or last.trace.example is None:
        return
    fig = task.task_chart(run.first_example, last.trace.example, last.trace.data, last.step)
    charts.chart(fig, key="fig_train_task", alt=alt_text.task(run.first_example, last.trace.example, last.step))

"""Admission control for a hosted page: at most N engine jobs at once per process, a time budget per run, public caps.

Settings (environment variables, read when asked, so a test or a restart sees new values):

- ``RNNLAB_MAX_JOBS``: engine jobs that may run at once in this process (default 2); the rest
  wait in line, first come first served, and the page says "queued, position k".
- ``RNNLAB_RUN_BUDGET_S``: seconds a training run may take once started (default: none; 300
  when public); it stops with a message when the budget is spent.
- ``RNNLAB_JOBS_MB``: megabytes the engine jobs of this process may hold at once, by their
  estimated bytes (engine/cost.py: tape, connectivity, parameters); default none, 768 when public.
- ``RNNLAB_PUBLIC=1``: a public page: no "Compute it anyway", tighter caps (ui/serving/limits.py),
  the 300 s run budget unless RNNLAB_RUN_BUDGET_S says otherwise, and the 768 MB for jobs.

One Streamlit process runs its Python on one core at a time: letting every visitor start a
heavy pass at once only makes all of them slow. Light work (estimated under LIGHT_S) skips
the line, so a page of cached or small views never waits behind a big one, as long as its
bytes fit: 8 tabs of a light but large pass (GRU, T=200, H=128, B=64, float64: 0.22 s and
236 MB each) took a process from 300 MB to 2.1 GB at once (issue 22). Every job, light ones
included, holds its estimated bytes while it runs; a job that does not fit waits in the line
(one larger than the whole allowance runs alone). After a job of TRIM_AFTER_BYTES or more,
glibc is asked to hand its freed memory back (ui/serving/malloc.py).
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from engine.cancel import Cancelled

from . import malloc

DEFAULT_JOBS = 2
PUBLIC_BUDGET_S = 300.0
PUBLIC_JOBS_MB = 768  # at most this many MB of engine jobs at once on a public page (3 of the 236 MB passes above)
LIGHT_S = 0.25  # work estimated below this runs at once, without a slot
POLL_S = 0.25  # how often a waiting caller looks at its position and its stop signal


def public(environ=None) -> bool:
    """True on a public page (RNNLAB_PUBLIC=1, true or yes)."""
    environ = os.environ if environ is None else environ
    return str(environ.get("RNNLAB_PUBLIC", "")).strip().lower() in ("1", "true", "yes")


def allow_override(environ=None) -> bool:
    """Whether the page may offer "Compute it anyway" for work over the limits: never on a public page."""
    return not public(environ)


def max_jobs(environ=None) -> int:
    """RNNLAB_MAX_JOBS as a positive integer (a missing or malformed value: DEFAULT_JOBS)."""
    environ = os.environ if environ is None else environ
    raw = str(environ.get("RNNLAB_MAX_JOBS", "")).strip()
    return int(raw) if raw.isdigit() and int(raw) >= 1 else DEFAULT_JOBS


def run_budget_s(environ=None) -> float | None:
    """Seconds a training run may take (RNNLAB_RUN_BUDGET_S); None: no budget. Public pages default to PUBLIC_BUDGET_S."""
    environ = os.environ if environ is None else environ
    try:
        value = float(str(environ.get("RNNLAB_RUN_BUDGET_S", "")).strip())
    except ValueError:
        value = math.nan
    if math.isfinite(value) and value > 0:
        return value
    return PUBLIC_BUDGET_S if public(environ) else None


def jobs_bytes(environ=None) -> float:
    """RNNLAB_JOBS_MB in bytes: what one process's engine jobs may hold at once (infinite: no bound, the default off public)."""
    environ = os.environ if environ is None else environ
    raw = str(environ.get("RNNLAB_JOBS_MB", "")).strip()
    if raw.isdigit() and int(raw) >= 1:
        return float(int(raw) << 20)
    return float(PUBLIC_JOBS_MB << 20) if public(environ) else math.inf


def queued_note(position: int, slots: int | None = None) -> str:
    """What a waiting visitor reads."""
    slots = jobs().slots if slots is None else slots
    return (
        f"Queued, position {position}: this server runs {slots} heavy computation{'s' if slots != 1 else ''} at once "
        "and others came first. Yours starts by itself."
    )


class Abandoned(Cancelled):
    """The caller's stop signal was set while it waited in line: the job never ran (a cancellation, as engine.cancel's)."""


class JobQueue:
    """A bounded number of slots and of bytes, handed out first come first served; waiting callers know their place in line."""

    def __init__(self, slots: int, max_bytes: float = math.inf):
        self.slots = max(int(slots), 1)
        self.max_bytes = float(max_bytes)
        self._cond = threading.Condition()
        self._running = 0
        self._held = 0.0  # estimated bytes of the jobs running now
        self._line: list[object] = []  # tickets of the waiting callers, first in line first

    @property
    def held(self) -> float:
        """Estimated bytes of the jobs running now."""
        with self._cond:
            return self._held

    def _fits(self, nbytes: float) -> bool:
        return self._held == 0 or self._held + nbytes <= self.max_bytes

    @property
    def running(self) -> int:
        with self._cond:
            return self._running

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._line)

    @contextmanager
    def slot(self, seconds: float = math.inf, on_wait: Callable[[int], None] | None = None, stop=None, nbytes: float = 0.0):
        """Hold one slot and `nbytes` for the block; light work (seconds < LIGHT_S) needs no slot, only its bytes.

        Light work whose bytes fit goes straight in, past the heavy jobs waiting for a slot; anything
        else waits in line, first come first served. While waiting, on_wait(k) is called with the place in line k >= 1 whenever it
        changes (in the caller's thread, so it may draw on the page), and on_wait(0) once the job
        starts. A stop signal (anything with is_set()) that is set while waiting raises Abandoned.
        """
        light, nbytes = seconds < LIGHT_S, max(float(nbytes), 0.0)
        with self._cond:
            straight_in = light and self._fits(nbytes)  # past the heavy jobs waiting for a slot, as long as it fits
            if straight_in:
                self._held += nbytes
        if straight_in:
            try:
                yield
            finally:
                self._release(nbytes, light)
            return
        ticket = object()
        shown = None
        with self._cond:
            self._line.append(ticket)
            try:
                while not (self._line[0] is ticket and (light or self._running < self.slots) and self._fits(nbytes)):
                    position = self._line.index(ticket) + 1
                    if on_wait is not None and position != shown:
                        shown = position
                        self._cond.release()
                        try:
                            on_wait(position)
                        finally:
                            self._cond.acquire()
                        continue
                    if stop is not None and stop.is_set():
                        raise Abandoned
                    self._cond.wait(POLL_S)
            except BaseException:
                self._line.remove(ticket)
                self._cond.notify_all()
                raise
            self._line.pop(0)
            self._running += 0 if light else 1
            self._held += nbytes
            self._cond.notify_all()  # the next in line may fit beside this one
        try:
            if on_wait is not None and shown is not None:
                on_wait(0)
            yield
        finally:
            self._release(nbytes, light)

    def _release(self, nbytes: float, light: bool) -> None:
        with self._cond:
            self._running -= 0 if light else 1
            self._held = max(self._held - nbytes, 0.0)
            self._cond.notify_all()
        if nbytes >= malloc.TRIM_AFTER_BYTES:  # the job's tape is free now: hand it back to the system
            malloc.trim()


class Budget:
    """A stop signal for engine.train: set once `seconds` have passed since start(), or when `other` is set."""

    def __init__(self, seconds: float | None, other=None):
        self.seconds = seconds
        self.other = other
        self._end = math.inf

    def start(self) -> Budget:
        self._end = time.monotonic() + self.seconds if self.seconds else math.inf
        return self

    @property
    def spent(self) -> bool:
        """True when the time ran out (as opposed to the other signal stopping the work)."""
        return time.monotonic() >= self._end

    def is_set(self) -> bool:
        return (self.other is not None and self.other.is_set()) or self.spent

    def message(self) -> str:
        """Why the run stopped when the budget ran out, for the page."""
        return f"this server stops a training run after {self.seconds:g} s (RNNLAB_RUN_BUDGET_S)"


@contextmanager
def training_slot(seconds: float, stop, on_wait: Callable[[int], None] | None = None, queue: JobQueue | None = None, nbytes: float = 0.0):
    """A job slot (and nbytes) for a whole training run, then its time budget, started once the run leaves the line.

    Yields the Budget to pass to engine.train as `stop` (it is also set when `stop` is). Raises
    Abandoned when `stop` is set while waiting. on_wait runs in the caller's thread: from a worker
    thread, let it record the place (a plain attribute) for the page to show, never draw.
    """
    with (queue or jobs()).slot(seconds, on_wait=on_wait, stop=stop, nbytes=nbytes):
        yield Budget(run_budget_s(), stop).start()


@functools.cache
def jobs() -> JobQueue:
    """This process's engine jobs: every session's passes and training runs share it; sized from the environment when first asked."""
    return JobQueue(max_jobs(), jobs_bytes())

"""Cancelling long engine work from outside: a stop signal that the caller's context carries into the loops.

The page computes connectivity (T^2 / 2 row-steps, up to minutes) in a session's script thread.
When that session ends for good, nobody will see the result, and the work must not keep a job
slot and a core busy (issue 22). A signal passed down every call would thread one argument
through run(), the model and each sweep; instead the caller opens a scope and the long loops ask
`check()` once per step, which costs a context-variable read when no scope is open.

    with cancel.scope(stop):      # stop: anything with is_set(), e.g. a threading.Event
        trace = engine.run(cfg, connectivity=True)   # raises Cancelled once stop.is_set()
"""

from __future__ import annotations

import contextlib
import contextvars


class Cancelled(RuntimeError):
    """The work's stop signal was set while it ran: no result, and nothing was kept."""


_STOP: contextvars.ContextVar = contextvars.ContextVar("engine_stop", default=None)


@contextlib.contextmanager
def scope(stop):
    """Run the block with `stop` (anything with is_set(), or None for none) as the signal that check() reads."""
    token = _STOP.set(stop)
    try:
        yield
    finally:
        _STOP.reset(token)


def check() -> None:
    """Raise Cancelled if the innermost scope's stop signal is set; no scope open: nothing to check."""
    stop = _STOP.get()
    if stop is not None and stop.is_set():
        raise Cancelled("the work was cancelled: its stop signal was set")

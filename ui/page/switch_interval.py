"""A shorter GIL switch interval while training workers run, and the process's own interval back after the last one.

A training worker holds the GIL for most of a training step; the threads that answer a click (the
server's event loop, the script thread) wait for it at every hand-over, by default up to 5 ms each
time. A shorter interval hands it over sooner, so Stop and slider clicks are answered while training
runs. `sys.setswitchinterval` is process-wide, so it is set only while some worker needs it: the
first worker in sets it, the last one out puts back what it found.
"""

from __future__ import annotations

import sys
import threading


class SwitchInterval:
    """A context manager, shared by every worker of the process: interval <= `seconds` while at least one is inside."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._inside = 0
        self._saved: float | None = None  # the interval the first worker found

    @property
    def inside(self) -> int:
        """Workers inside now."""
        with self._lock:
            return self._inside

    def __enter__(self) -> SwitchInterval:
        with self._lock:
            if self._inside == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, self.seconds))
            self._inside += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._saved is not None:
                sys.setswitchinterval(self._saved)
                self._saved = None

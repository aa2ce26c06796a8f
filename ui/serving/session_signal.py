"""A stop signal for engine work done for one browser session: set by hand (Stop), or once that session is gone for good.

Training runs in a worker (ui/page/live.py) and connectivity in the script thread
(ui/page/compute.py, through engine.cancel) both ask it between steps; it asks the Runtime at
most once a second, so a step pays a clock read, and a closed tab frees its job slot within
about a second of Streamlit forgetting the session (a reconnect within the grace period keeps it).
"""

from __future__ import annotations

import threading
import time

from .streamlit_private import session_is_alive

ALIVE_CHECK_S = 1.0  # how often the signal asks whether its browser session still exists


class SessionGone:
    """Stop signal: set by set(), or true once the browser session with session_id is gone (None: only set() sets it)."""

    def __init__(self, session_id: str | None):
        self.event = threading.Event()
        self.session_id = session_id
        self._checked = time.monotonic()

    def set(self) -> None:
        self.event.set()

    def is_set(self) -> bool:
        if self.event.is_set():
            return True
        now = time.monotonic()
        if self.session_id is not None and now - self._checked > ALIVE_CHECK_S:
            self._checked = now
            if not session_is_alive(self.session_id):
                self.event.set()
        return self.event.is_set()

"""Runs trained side by side take their steps together, so one chart compares them at the same training step.

A compared configuration often trains slower (an LSTM beside an RNN): each worker went at its own
pace and the compared curve lagged the step counter (411 against ~260). Here a run about to begin a
step waits while a partner that is still training has begun fewer steps: the one ahead waits, the
one behind never does. A partner still waiting in the server's line (no step begun yet) or ended
(finished, diverged, stopped) is not waited for, so no two runs ever wait on each other.
"""

from __future__ import annotations

import threading

WAIT_S = 0.05  # a waiting run looks again this often (a partner that ends, or a Stop, does not notify)


class Lockstep:
    """The steps begun by each run of one side-by-side comparison; members have a `status` ("running" while training)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._begun: dict[int, int] = {}
        self._members: dict[int, object] = {}

    def gate(self, member, stop) -> Gate:
        """The stop signal to hand engine.train for this member: the lockstep wait, then `stop` itself."""
        with self._cond:
            self._begun[id(member)] = 0
            self._members[id(member)] = member
        return Gate(self, member, stop)

    def begun(self, member) -> int:
        """Training steps this member has begun."""
        with self._cond:
            return self._begun[id(member)]

    def begin(self, member, stop) -> bool:
        """Wait while a training partner is behind, then count this member's next step as begun; True: stop instead."""
        with self._cond:
            while not stop.is_set() and self._behind(member):
                self._cond.wait(WAIT_S)
            if stop.is_set():
                return True
            self._begun[id(member)] += 1
            self._cond.notify_all()
            return False

    def _behind(self, member) -> bool:
        mine = self._begun[id(member)]
        return any(
            other is not member and getattr(other, "status", None) == "running" and 0 < self._begun[key] < mine
            for key, other in self._members.items()
        )


class Gate:
    """What engine.train checks before every step (`is_set()`): each call waits for the partners, then begins one step."""

    def __init__(self, lockstep: Lockstep, member, stop):
        self.lockstep, self.member, self.stop = lockstep, member, stop

    def is_set(self) -> bool:
        return self.lockstep.begin(self.member, self.stop)

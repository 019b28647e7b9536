"""A virtual clock: handlers, schedules and state-machine waits all read it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class VirtualClock:
    """Time stands still until advanced. Waiters (Step Functions Wait states) block until
    the clock reaches their target; the router counts them to know when all is quiet."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)
        self._epoch = self._now.timestamp()
        self._cond = threading.Condition()
        self._waiting: dict[int, datetime] = {}

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def epoch(self) -> float:
        """Now in POSIX seconds, without the lock (moto's SQS reads it for every message it
        looks at: a float set in one assignment is read whole)."""
        return self._epoch

    def set(self, moment: datetime) -> None:
        with self._cond:
            moment = moment.astimezone(UTC)
            if moment < self._now:
                raise ValueError("the local clock never goes back")
            self._now = moment
            self._epoch = moment.timestamp()
            self._cond.notify_all()

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def wait_until(self, target: datetime, still_running: Callable[[], bool] = lambda: True) -> None:
        """Block the calling thread until the clock reaches `target` (UTC)."""
        key = threading.get_ident()
        with self._cond:
            self._waiting[key] = target
            try:
                while self._now < target and still_running():
                    self._cond.wait(timeout=1.0)
            finally:
                self._waiting.pop(key, None)

    def blocked_waiters(self) -> int:
        """Waiters whose target is still in the future (they are idle, not working)."""
        with self._cond:
            return sum(1 for t in self._waiting.values() if t > self._now)

    def next_wake(self) -> datetime | None:
        with self._cond:
            future = [t for t in self._waiting.values() if t > self._now]
            return min(future) if future else None

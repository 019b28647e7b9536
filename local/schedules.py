"""EventBridge Scheduler: fires one-shot `at(...)` schedules when the clock reaches them
(as an async invoke, which is how Scheduler calls Lambda) and deletes them after
completion; fires daily `cron(M H * * ? *)` schedules at their local time in their zone."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import re
import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from moto.scheduler.exceptions import ScheduleNotFound
from moto.scheduler.models import scheduler_backends

from . import moto_patches
from .clock import VirtualClock
from .deploy import ACCOUNT, REGION, Deployment

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_DAILY = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$")


def flexible_delay(name: str, mode: str, window_minutes: int) -> timedelta:
    """Where in its flexible time window a schedule fires. AWS promises only "inside the
    window"; the local stack picks a point from the schedule's name, so a schedule keeps
    its moment within a run while the random practice ids of the tests put it elsewhere
    from run to run (issue 16: reminders and review requests are spread)."""
    if mode != "FLEXIBLE":
        return timedelta(0)
    fraction = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") / 2**32
    return timedelta(seconds=int(fraction * window_minutes * 60))


@lru_cache(maxsize=65_536)
def _one_shot_due(name: str, expression: str, timezone: str, mode: str, window_minutes: int) -> datetime | None:
    """When a one-shot `at(...)` schedule fires (every router pass asks, for every schedule:
    worked out once per schedule)."""
    match = _AT.match(expression)
    if not match:
        return None
    at = datetime.fromisoformat(match.group(1)).replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    return at + flexible_delay(name, mode, window_minutes)


def next_daily(expression: str, timezone: str, after: datetime) -> datetime:
    """The first local `H:M` of a daily cron expression strictly after `after` (UTC)."""
    match = _DAILY.match(expression)
    if not match:
        raise NotImplementedError(f"local scheduler fires daily crons only: {expression}")
    zone = ZoneInfo(timezone)
    minute, hour = int(match.group(1)), int(match.group(2))
    day = after.astimezone(zone).date()
    while True:
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        if local.astimezone(UTC) > after:
            return local.astimezone(UTC)
        day += timedelta(days=1)


class Schedules:
    """Which schedule is due next: a heap of (due, order, group, name, schedule), told of
    every schedule created or updated (moto patch 9). An entry is acted on only while it is
    still true (the schedule is the group's current one under that name, enabled, and due
    then): a deleted, replaced, disabled, fired or rescheduled schedule leaves its old
    entries behind, and they are dropped when they reach the head."""

    def __init__(
        self,
        deployment: Deployment,
        clock: VirtualClock,
        enqueue: Callable[[str, dict[str, Any]], None],
        stats: dict[str, int],
    ) -> None:
        self.d = deployment
        self.clock = clock
        self.enqueue = enqueue
        self.stats = stats
        self._cron_fired: dict[tuple[str, str, str, str], datetime] = {}
        self._heap: list[tuple[datetime, int, str, str, Any]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        for schedule in self._all():
            self.told(schedule)
        moto_patches.watch_schedules(self.told)

    def _all(self) -> list[Any]:
        backend = scheduler_backends[ACCOUNT][REGION]
        return [
            s for name in self.d.schedule_groups for s in list(backend.schedule_groups[name].schedules.values())
        ]

    @staticmethod
    def _cron_key(schedule: Any) -> tuple[str, str, str, str]:
        return (
            schedule.group_name,
            schedule.name,
            schedule.schedule_expression,
            schedule.schedule_expression_timezone or "UTC",
        )

    def due_time(self, schedule: Any) -> datetime | None:
        expression = schedule.schedule_expression or ""
        timezone = schedule.schedule_expression_timezone or "UTC"
        if expression.startswith("cron("):
            # A recurring schedule is due at its next time after its last firing (or
            # after the moment the router first saw it).
            last = self._cron_fired.setdefault(self._cron_key(schedule), self.clock.now())
            return next_daily(expression, timezone, last)
        window = schedule.flexible_time_window or {}
        mode, minutes = window.get("Mode", "OFF"), int(window.get("MaximumWindowInMinutes", 0))
        return _one_shot_due(schedule.name, expression, timezone, mode, minutes)

    def told(self, schedule: Any) -> None:
        """A schedule was created or updated (or fired, for a recurring one)."""
        if schedule.group_name not in self.d.schedule_groups or schedule.state != "ENABLED":
            return
        due = self.due_time(schedule)
        if due is not None:
            with self._lock:
                heapq.heappush(self._heap, (due, next(self._order), schedule.group_name, schedule.name, schedule))

    def _holds(self, entry: tuple[datetime, int, str, str, Any]) -> bool:
        due, _, group, name, schedule = entry
        current = scheduler_backends[ACCOUNT][REGION].schedule_groups.get(group)
        return (
            current is not None
            and current.schedules.get(name) is schedule
            and schedule.state == "ENABLED"
            and self.due_time(schedule) == due
        )

    def _head(self) -> tuple[datetime, int, str, str, Any] | None:
        with self._lock:
            while self._heap and not self._holds(self._heap[0]):
                heapq.heappop(self._heap)
            return self._heap[0] if self._heap else None

    def _take_due(self, now: datetime) -> tuple[datetime, int, str, str, Any] | None:
        """The head if it is due (taken off the heap in the same step: a schedule created
        meanwhile on another thread cannot take its place unseen)."""
        with self._lock:
            while self._heap and not self._holds(self._heap[0]):
                heapq.heappop(self._heap)
            return heapq.heappop(self._heap) if self._heap and self._heap[0][0] <= now else None

    def fire_due(self) -> int:
        now = self.clock.now()
        fired = 0
        while (entry := self._take_due(now)) is not None:
            due, schedule = entry[0], entry[4]
            function = self.d.function_by_arn(schedule.target["Arn"]).name
            self.enqueue(function, json.loads(schedule.target.get("Input") or "{}"))
            fired += 1
            self.stats["schedules_fired"] += 1
            if (schedule.schedule_expression or "").startswith("cron("):
                self._cron_fired[self._cron_key(schedule)] = due
                self.told(schedule)
            elif schedule.action_after_completion == "DELETE":
                # AWS deletes it itself, in the emulator's backend here: not a call of ours, so
                # neither the IAM mirror nor the fault drills (B8) apply to it.
                with suppress(ScheduleNotFound):  # withdrawn by the planner meanwhile
                    scheduler_backends[ACCOUNT][REGION].delete_schedule(schedule.group_name, schedule.name)
            else:
                schedule.state = "DISABLED"
        return fired

    def pending(self) -> int:
        return sum(1 for s in self._all() if s.state == "ENABLED")

    def pending_names(self, prefix: str = "") -> list[str]:
        return sorted(s.name for s in self._all() if s.state == "ENABLED" and s.name.startswith(prefix))

    def next_due(self) -> datetime | None:
        now = self.clock.now()
        head = self._head()
        if head is None or head[0] > now:
            return head[0] if head else None
        with self._lock:  # something due now that has not fired yet: the next one after it
            later = [e[0] for e in self._heap if e[0] > now and self._holds(e)]
        return min(later) if later else None

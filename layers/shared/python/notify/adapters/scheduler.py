"""EventBridge Scheduler schedules: one-shot (messages due later, settle moments) and a
practice's daily recall sweep."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .aws_clients import client


@dataclass(frozen=True)
class SchedulerTarget:
    group: str
    target_arn: str
    role_arn: str
    dead_letter_arn: str | None = None


# How long after its moment Scheduler may still retry a schedule's invocation (its retry
# policy's MaximumEventAgeInSeconds: AWS stops retrying then, and a dead-letter queue gets
# what never succeeded).
LAST_RETRY_AFTER = timedelta(hours=1)


def run_its_course(due_at: datetime, window_minutes: int, now: datetime) -> bool:
    """Has this one-shot schedule been invoked for the last time (its flexible window and
    its retries over, with an hour to spare)? Then it is gone (a one-shot schedule deletes
    itself once invoked) and its send has closed its ledger row, or its last try is in the
    dead-letter queue (a redrive's send is refused: the appointment changed). Deleting it
    or withdrawing its row would find nothing to do."""
    return now >= due_at + timedelta(minutes=window_minutes) + 2 * LAST_RETRY_AFTER


def at_expression(moment: datetime) -> str:
    """`at(yyyy-mm-ddThh:mm:ss)` in UTC (validated here: the emulator accepts garbage)."""
    utc = moment.astimezone(UTC)
    return f"at({utc.strftime('%Y-%m-%dT%H:%M:%S')})"


def _target_spec(target: SchedulerTarget, payload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "Arn": target.target_arn,
        "RoleArn": target.role_arn,
        "Input": json.dumps(payload, separators=(",", ":")),
        # B8: bounded retries instead of the default 185 attempts over 24h.
        "RetryPolicy": {
            "MaximumRetryAttempts": 3,
            "MaximumEventAgeInSeconds": int(LAST_RETRY_AFTER.total_seconds()),
        },
    }
    if target.dead_letter_arn:
        spec["DeadLetterConfig"] = {"Arn": target.dead_letter_arn}
    return spec


def flexible_window(minutes: int) -> dict[str, Any]:
    """Scheduler invokes the target at any moment within `minutes` after the time (AWS
    spreads such invocations); 0: at the time exactly."""
    if minutes <= 0:
        return {"Mode": "OFF"}
    return {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": min(minutes, 1440)}


def plan_schedule(
    target: SchedulerTarget, name: str, at: datetime, payload: dict[str, Any], window_minutes: int = 0
) -> bool:
    """Create the one-shot schedule; False if it exists already (idempotent replay).
    `window_minutes`: a flexible time window (reminders, review requests and rebooking
    prompts: domain/message_plan.py spread_minutes, issue 16)."""
    scheduler = client("scheduler")
    definition = _one_shot(target, name, at, payload, window_minutes)
    return _done(lambda: scheduler.create_schedule(**definition), scheduler.exceptions.ConflictException)


def _done(call: Callable[[], object], refused: type[Exception]) -> bool:
    """Make one Scheduler call; False when it is refused with `refused` (the schedule
    exists already, or is gone), which callers take as "nothing to do"."""
    try:
        call()
    except refused:
        return False
    return True


def _one_shot(
    target: SchedulerTarget, name: str, at: datetime, payload: dict[str, Any], window_minutes: int
) -> dict[str, Any]:
    """A one-shot schedule's whole definition (deleted once it has fired)."""
    return {
        "Name": name,
        "GroupName": target.group,
        "ScheduleExpression": at_expression(at),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": flexible_window(window_minutes),
        "ActionAfterCompletion": "DELETE",
        "State": "ENABLED",
        "Target": _target_spec(target, payload),
    }


def move_schedule(
    target: SchedulerTarget, name: str, at: datetime, payload: dict[str, Any], window_minutes: int = 0
) -> bool:
    """Move a one-shot schedule to `at` (UpdateSchedule replaces the whole definition, so
    it is given again in full); False if it is gone (fired, or deleted)."""
    scheduler = client("scheduler")
    definition = _one_shot(target, name, at, payload, window_minutes)
    return _done(lambda: scheduler.update_schedule(**definition), scheduler.exceptions.ResourceNotFoundException)


def plan_daily(
    target: SchedulerTarget, name: str, hour: int, minute: int, timezone: str, payload: dict[str, Any]
) -> None:
    """Create or replace a recurring schedule at a local time every day (DST-aware:
    Scheduler evaluates the cron in `timezone`)."""
    scheduler = client("scheduler")
    spec = {
        "Name": name,
        "GroupName": target.group,
        "ScheduleExpression": f"cron({minute} {hour} * * ? *)",
        "ScheduleExpressionTimezone": timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
        "Target": _target_spec(target, payload),
    }
    try:
        scheduler.create_schedule(**spec)
    except scheduler.exceptions.ConflictException:
        scheduler.update_schedule(**spec)


def cancel_schedule(target: SchedulerTarget, name: str) -> bool:
    """Delete the schedule; False if it was gone already (fired, or deleted before)."""
    scheduler = client("scheduler")
    return _done(
        lambda: scheduler.delete_schedule(Name=name, GroupName=target.group),
        scheduler.exceptions.ResourceNotFoundException,
    )

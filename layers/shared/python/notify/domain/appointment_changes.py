"""What a practice's change does to an appointment, whatever order changes arrive in (B9).

A change sets one or more aspects (see event_order). Applying a set of changes in any
order gives the same appointment: each aspect ends at the value of its newest change.
Changes to an appointment we have not seen yet are held (`Held`) and folded into the
appointment when its creation arrives, by the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .event_order import Aspect, ChangeStamp, applicable, stamped
from .model import ACTIVE_STATUSES, Actor, Appointment, AppointmentStatus


@dataclass(frozen=True)
class TimeChange:
    start: datetime
    end: datetime
    releases_slot: bool = True  # F1: the time it leaves is free for others


@dataclass(frozen=True)
class StatusChange:
    status: AppointmentStatus
    cancelled_by: Actor | None = None
    releases_slot: bool = True  # F1: a cancellation's time is free for others


@dataclass(frozen=True)
class NotificationsChange:
    enabled: bool


@dataclass(frozen=True)
class AsapChange:
    """F4: on (since when) or off the ASAP list."""

    since: datetime | None


@dataclass(frozen=True)
class RescheduleRequestChange:
    """R4 (D22): the patient asked the practice for another time (when), or not (None)."""

    at: datetime | None


Change = TimeChange | StatusChange | NotificationsChange | AsapChange | RescheduleRequestChange
ASPECT_OF: dict[type, Aspect] = {
    TimeChange: Aspect.TIME,
    StatusChange: Aspect.STATUS,
    NotificationsChange: Aspect.NOTIFICATIONS,
    AsapChange: Aspect.ASAP,
    RescheduleRequestChange: Aspect.RESCHEDULE_REQUEST,
}
# What a move answers: the patient is off the ASAP list (F4) and has the other time they
# asked for (R4), unless they asked after the move (the newest change wins, in any order).
ENDED_BY_A_MOVE = (Aspect.ASAP, Aspect.RESCHEDULE_REQUEST)


@dataclass(frozen=True)
class Outcome:
    """The appointment after a change, and whether anything of it applied."""

    appointment: Appointment
    applied: tuple[Aspect, ...]

    @property
    def stale(self) -> bool:
        return not self.applied


def apply_changes(current: Appointment, changes: tuple[Change, ...], stamp: ChangeStamp, now: datetime) -> Outcome:
    """Apply the aspects of `changes` that `stamp` is not older than.

    A new time is a new version of the appointment (its messages are planned again,
    R3) and needs a new confirmation: a confirmed appointment that moves is booked again.
    A status or time change records `changed_at` (F1 measures a freed slot's notice by it).
    Whether the time it leaves is free for others (F1) follows each aspect's newest change.
    """
    wanted = tuple(ASPECT_OF[type(c)] for c in changes)
    allowed = applicable(current.stamp_map, stamp, wanted)
    result = current
    ended: list[Aspect] = []
    for change in changes:
        if ASPECT_OF[type(change)] not in allowed:
            continue
        if isinstance(change, TimeChange):
            # F1: the aspect's newest change says whether the time it left is free,
            # whether or not it moved the appointment (so any order gives the same flag)
            result = replace(result, moved_keeping_slot=not change.releases_slot)
            if (change.start, change.end) != (result.start, result.end):
                status = (
                    AppointmentStatus.BOOKED if result.status is AppointmentStatus.CONFIRMED else result.status
                )
                result = replace(
                    result,
                    start=change.start,
                    end=change.end,
                    status=status,
                    version=result.version + 1,
                    changed_at=now,
                    took_slot_until=None,  # D23: no longer at the time a freed slot gave it
                )
                for aspect in ENDED_BY_A_MOVE:
                    if current.stamp_map.get(aspect.value, "") <= stamp.key:
                        result = _ended(result, aspect)
                        ended.append(aspect)
        elif isinstance(change, StatusChange):
            kept = change.status is AppointmentStatus.CANCELLED and not change.releases_slot
            result = replace(result, cancelled_keeping_slot=kept)
            if change.status is not result.status and not (
                change.status is AppointmentStatus.BOOKED and result.status in ACTIVE_STATUSES
            ):
                result = replace(result, status=change.status, changed_at=now, cancelled_by=change.cancelled_by)
        elif isinstance(change, AsapChange):
            result = replace(result, asap_since=change.since)
        elif isinstance(change, RescheduleRequestChange):
            result = replace(result, reschedule_requested_at=change.at)
        else:
            result = replace(result, notifications_enabled=change.enabled)
    marked = (*allowed, *(a for a in ended if a not in allowed))
    stamps = tuple(sorted(stamped(current.stamp_map, stamp, marked).items()))
    return Outcome(replace(result, stamps=stamps), allowed)


def _ended(appointment: Appointment, aspect: Aspect) -> Appointment:
    if aspect is Aspect.ASAP:
        return replace(appointment, asap_since=None)
    return replace(appointment, reschedule_requested_at=None)


@dataclass(frozen=True)
class Held:
    """Changes to an appointment not created yet: per aspect the newest value and stamp."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, changes: tuple[Change, ...], stamp: ChangeStamp) -> tuple[Held, bool]:
        """This plus `changes`; False when every aspect already holds something newer."""
        values = dict(self.values)
        added = False
        for change in changes:
            aspect = ASPECT_OF[type(change)].value
            if values.get(aspect, {}).get("stamp", "") <= stamp.key:
                values[aspect] = {
                    "stamp": stamp.key,
                    "occurred_at": stamp.occurred_at.isoformat(),
                    "sequence": stamp.sequence,
                    **_encode(change),
                }
                added = True
        return Held(values), added

    def changes(self) -> list[tuple[ChangeStamp, Change]]:
        """The held changes, oldest first."""
        out = []
        for value in self.values.values():
            stamp = ChangeStamp(datetime.fromisoformat(value["occurred_at"]), int(value["sequence"]))
            out.append((stamp, _decode(value)))
        return sorted(out, key=lambda pair: pair[0].key)


def reconcile(created: Appointment, held: Held, now: datetime) -> Appointment:
    """The appointment a late creation makes, with the held changes that are newer than it
    folded in (a held cancellation keeps it cancelled: the creation cannot revive it)."""
    result = created
    for stamp, change in held.changes():
        result = apply_changes(result, (change,), stamp, now).appointment
    return result


def _encode(change: Change) -> dict[str, Any]:
    if isinstance(change, TimeChange):
        return {"start": change.start.isoformat(), "end": change.end.isoformat(), **_kept_slot(change)}
    if isinstance(change, StatusChange):
        return {
            "status": change.status.value,
            "cancelled_by": change.cancelled_by.value if change.cancelled_by else None,
            **_kept_slot(change),
        }
    if isinstance(change, AsapChange):
        return {"asap_since": change.since.isoformat() if change.since else None}
    if isinstance(change, RescheduleRequestChange):
        return {"reschedule_requested_at": change.at.isoformat() if change.at else None}
    return {"enabled": change.enabled}


def _kept_slot(change: TimeChange | StatusChange) -> dict[str, bool]:
    """Held only when the change keeps its slot (older held changes have no such key)."""
    return {} if change.releases_slot else {"releases_slot": False}


def _decode(value: dict[str, Any]) -> Change:
    releases = bool(value.get("releases_slot", True))
    if "start" in value:
        return TimeChange(datetime.fromisoformat(value["start"]), datetime.fromisoformat(value["end"]), releases)
    if "status" in value:
        by = value.get("cancelled_by")
        return StatusChange(AppointmentStatus(value["status"]), Actor(by) if by else None, releases)
    if "asap_since" in value:
        since = value["asap_since"]
        return AsapChange(datetime.fromisoformat(since) if since else None)
    if "reschedule_requested_at" in value:
        at = value["reschedule_requested_at"]
        return RescheduleRequestChange(datetime.fromisoformat(at) if at else None)
    return NotificationsChange(bool(value["enabled"]))

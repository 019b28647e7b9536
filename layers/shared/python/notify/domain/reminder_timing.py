"""When the reminder of an appointment is due (R2).

Offsets are exact durations on the UTC time line, so "48h before" stays 48 real hours
across a DST change (B1).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .model import ReminderPolicy

LONG_LEAD = timedelta(hours=72)
SHORT_LEAD = timedelta(hours=36)
# R10 generalises R2: a reminder `o` hours before the start is sent when the appointment
# was booked at least 1.5 x o ahead (R2's 24h reminder needs 36h of lead, its 48h one 72h).
LEAD_FACTOR = 1.5


def reminders_due(
    start: datetime, booked_at: datetime, offsets_hours: tuple[int, ...]
) -> list[tuple[int, datetime]]:
    """R10: each of the practice's reminder offsets that applies, with its moment, earliest
    first. An offset applies when the lead time is at least 1.5 times it (R2's rule)."""
    start, booked_at = start.astimezone(UTC), booked_at.astimezone(UTC)
    lead = start - booked_at
    due = [
        (hours, start - timedelta(hours=hours))
        for hours in sorted(set(offsets_hours), reverse=True)
        if lead >= timedelta(hours=hours) * LEAD_FACTOR
    ]
    return [(hours, at) for hours, at in due if at > booked_at]


def reminder_due_at(
    start: datetime,
    booked_at: datetime,
    policy: ReminderPolicy = ReminderPolicy.LEAD_TIME,
    fixed_offset_hours: int = 24,
) -> datetime | None:
    """Return when to remind, or None when no reminder is due.

    Args:
        start: appointment start (aware).
        booked_at: when the appointment was booked (aware).
        policy: LEAD_TIME (Docplanner) or FIXED (Maddie's fixed offset).
        fixed_offset_hours: offset used by the FIXED policy.

    Lead time = start - booked_at. LEAD_TIME: lead > 72h reminds 48h before, 36h..72h
    (inclusive) reminds 24h before, under 36h no reminder. FIXED: `fixed_offset_hours`
    before start, unless that moment is not after the booking.
    """
    # Python subtracts wall-clock time between datetimes of one zone: work in UTC so that
    # "48h before" stays 48 real hours when a DST change lies in between.
    start, booked_at = start.astimezone(UTC), booked_at.astimezone(UTC)
    lead = start - booked_at
    if policy is ReminderPolicy.FIXED:
        due = start - timedelta(hours=fixed_offset_hours)
        return due if due > booked_at else None
    if lead > LONG_LEAD:
        return start - timedelta(hours=48)
    if lead >= SHORT_LEAD:
        return start - timedelta(hours=24)
    return None

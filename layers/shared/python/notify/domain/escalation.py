"""When an unanswered push (or unopened notice) is followed by an SMS (C1, C2, R6, B2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .model import Appointment, BookingSource, MessageKind, PracticeSettings
from .quiet_hours import defer_out_of_quiet_hours

NOTICE_FALLBACK = timedelta(hours=4)


def escalation_at(
    kind: MessageKind, appointment: Appointment, settings: PracticeSettings, sent_at: datetime
) -> datetime | None:
    """Return when to check the message and maybe send the SMS, or None for no escalation.

    C1: a reminder push unanswered for `push_fallback_minutes` (2h) escalates. C2: never
    for appointment types on the practice's no-fallback list. R6: practice-made notices
    escalate after 4h unopened (confirmation of a practice booking, reschedule notice).
    The time is deferred out of quiet hours (B2).
    """
    if appointment.appointment_type.casefold() in {t.casefold() for t in settings.no_fallback_types}:
        return None
    if kind is MessageKind.REMINDER:
        delay = timedelta(minutes=settings.push_fallback_minutes)
    elif (
        kind in (MessageKind.CONFIRMATION, MessageKind.RESCHEDULE) and appointment.source is BookingSource.PRACTICE
    ):
        delay = NOTICE_FALLBACK
    else:
        return None
    at = defer_out_of_quiet_hours(
        sent_at.astimezone(UTC) + delay, settings.timezone, settings.quiet_start, settings.quiet_end
    )
    # An escalation after the appointment started helps nobody.
    return at if at < appointment.start else None

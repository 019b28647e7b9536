"""Which messages an appointment change causes, and which are due later (R1-R3, R7, R9)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from .model import (
    Actor,
    Appointment,
    AppointmentStatus,
    BookingSource,
    MessageKind,
    PlannedMessage,
    PracticeSettings,
)
from .quiet_hours import defer_out_of_quiet_hours
from .reminder_timing import reminder_due_at

# Kinds planned as one-shot schedules; the others are sent at once on a transition.
TIMED_KINDS = (MessageKind.REMINDER, MessageKind.REVIEW_REQUEST, MessageKind.REBOOKING_PROMPT)

REVIEW_DELAY = timedelta(hours=2)
REBOOKING_DELAY = timedelta(hours=20)


def transition_messages(old: Appointment | None, new: Appointment | None) -> list[MessageKind]:
    """Messages to send at once because the appointment changed from `old` to `new`.

    R1 confirmation on creation; R3/R6 notice when the time moved; R5 notice when the
    practice cancelled (a patient who cancelled from a link already saw it on the page).
    """
    if new is None or not new.notifications_enabled:
        return []
    if old is None:
        return [MessageKind.CONFIRMATION] if new.is_active else []
    if new.status is AppointmentStatus.CANCELLED and old.status is not AppointmentStatus.CANCELLED:
        return [MessageKind.CANCELLATION] if new.cancelled_by is Actor.PRACTICE else []
    if new.is_active and new.version != old.version:
        return [MessageKind.RESCHEDULE]
    return []


def timed_messages(appointment: Appointment | None, settings: PracticeSettings,
                   review_enabled_for_practice_bookings: bool | None = None) -> list[PlannedMessage]:
    """Every message of this appointment state that is due at a later time."""
    if appointment is None or not appointment.notifications_enabled:
        return []
    planned: list[PlannedMessage] = []
    if appointment.is_active:
        due = reminder_due_at(appointment.start, appointment.booked_at,
                              settings.reminder_policy, settings.fixed_offset_hours)
        if due is not None:
            due = defer_out_of_quiet_hours(due, settings.timezone,
                                           settings.quiet_start, settings.quiet_end)
            if due < appointment.start:
                planned.append(PlannedMessage(MessageKind.REMINDER, due))
    elif appointment.status is AppointmentStatus.ATTENDED:
        practice_opted_in = (settings.review_for_practice_bookings
                             if review_enabled_for_practice_bookings is None
                             else review_enabled_for_practice_bookings)
        wants_review = appointment.source is not BookingSource.PRACTICE or practice_opted_in
        if wants_review and settings.review_url:
            planned.append(PlannedMessage(MessageKind.REVIEW_REQUEST, _quiet(
                appointment.end.astimezone(UTC) + REVIEW_DELAY, settings)))
        if settings.booking_url:
            planned.append(PlannedMessage(MessageKind.REBOOKING_PROMPT, _quiet(
                appointment.end.astimezone(UTC) + REBOOKING_DELAY, settings)))
    return planned


def _quiet(moment: datetime, settings: PracticeSettings) -> datetime:
    return defer_out_of_quiet_hours(moment, settings.timezone,
                                    settings.quiet_start, settings.quiet_end)


def withdrawal_reason(old: Appointment, new: Appointment | None) -> str:
    """Why the messages planned for `old` are withdrawn when it becomes `new` (R3, R9)."""
    if new is None:
        return "appointment deleted"
    if not new.notifications_enabled:
        return "notifications switched off for this appointment"
    if new.status is AppointmentStatus.CANCELLED:
        return "appointment cancelled"
    if new.version != old.version:
        return "appointment rescheduled"
    return f"appointment {new.status.value}"


def staleness_reason(kind: MessageKind, version: int, appointment: Appointment | None) -> str | None:
    """Why a message planned for `version` must not go out any more, or None (R3, R9).

    A message is never sent for a state the appointment has left.
    """
    if appointment is None:
        return "appointment no longer exists"
    if not appointment.notifications_enabled:
        return "notifications switched off for this appointment"
    if appointment.version != version:
        return "appointment was rescheduled"
    if kind in (MessageKind.CANCELLATION,):
        return None if appointment.status is AppointmentStatus.CANCELLED else "not cancelled"
    if kind in (MessageKind.REVIEW_REQUEST, MessageKind.REBOOKING_PROMPT):
        return None if appointment.status is AppointmentStatus.ATTENDED else "not attended"
    if not appointment.is_active:
        return f"appointment is {appointment.status.value}"
    return None


def message_id(appointment: Appointment | str, kind: MessageKind, version: int) -> str:
    """The idempotency key of one message of one appointment version."""
    appointment_id = appointment if isinstance(appointment, str) else appointment.appointment_id
    return f"{appointment_id}#{kind.value}#v{version}"


def schedule_name(practice_id: str, appointment_id: str, kind: MessageKind, version: int) -> str:
    """A deterministic EventBridge Scheduler name (<= 64 chars of [0-9A-Za-z-_.])."""
    raw = f"{practice_id}.{appointment_id}.{kind.value}.v{version}"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in raw)
    if len(safe) <= 64:
        return safe
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    return f"{kind.value}.v{version}.{digest}"

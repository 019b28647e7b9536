"""Which messages an appointment change causes, and which are due later (R1-R3, R7, R9)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .model import (
    Actor,
    Appointment,
    AppointmentSnapshot,
    AppointmentStatus,
    BookingSource,
    MessageKind,
    PlannedMessage,
    PracticeSettings,
)
from .quiet_hours import defer_out_of_quiet_hours
from .reminder_timing import reminder_due_at, reminders_due

# Kinds planned as one-shot schedules; the others are sent at once on a transition.
TIMED_KINDS = (MessageKind.REMINDER, MessageKind.REVIEW_REQUEST, MessageKind.REBOOKING_PROMPT)

REVIEW_DELAY = timedelta(hours=2)
REBOOKING_DELAY = timedelta(hours=20)
# Issue 16: reminders, review requests and rebooking prompts may leave up to an hour after
# their moment (spread by EventBridge Scheduler's flexible time window); escalations,
# notices and offers keep their exact time.
SPREAD = timedelta(minutes=60)


def settled_messages(announced: AppointmentSnapshot | None, current: Appointment) -> list[MessageKind]:
    """The notices the patient gets once a change has settled (B9): from what they were
    last told (`announced`) to where the appointment ended, never about the states in
    between.

    R1 confirmation of a new active appointment; R3/R6 notice when its time moved; R5
    notice when the practice cancelled it (a patient who cancelled from a link saw it on
    the page; an appointment cancelled before anybody was told needs no notice, nor one
    cancelled once its time was over: the practice is correcting its records).
    """
    if not current.notifications_enabled:
        return []
    if announced is None:
        return [MessageKind.CONFIRMATION] if current.is_active else []
    if not announced.is_active:
        return []
    if current.status is AppointmentStatus.CANCELLED:
        by_practice = current.cancelled_by is Actor.PRACTICE
        return [MessageKind.CANCELLATION] if by_practice and not _after_its_time(announced, current) else []
    if current.is_active and (announced.start, announced.end) != (current.start, current.end):
        return [MessageKind.RESCHEDULE]
    return []


def needs_settling(current: Appointment | None) -> bool:
    """Has the appointment moved away from what was last announced (or never been), in
    what a notice or a freed slot depends on? A patient confirming (booked -> confirmed)
    tells nobody anything and frees nothing, nor does a visit's outcome (attended, no
    show: no notice, no slot): they settle nothing (no settle schedule, no settle run, no
    record of it). What was announced stays the active appointment then, so a later
    correction to cancelled comes after the visit and tells nobody either."""
    if current is None or current.status in _OUTCOMES:
        return False
    announced = current.announced
    return announced is None or _as_told(announced) != _as_told(current.snapshot())


_OUTCOMES = frozenset({AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW})


def _after_its_time(announced: AppointmentSnapshot, current: Appointment) -> bool:
    """The change came once the announced visit was over (during it, a patient on their
    way still wants to know)."""
    return current.changed_at is not None and current.changed_at >= announced.end


def _as_told(snapshot: AppointmentSnapshot) -> AppointmentSnapshot:
    """The snapshot as notices and freed slots see it: active statuses alike."""
    return replace(snapshot, status=AppointmentStatus.BOOKED) if snapshot.is_active else snapshot


def timed_messages(
    appointment: Appointment | None,
    settings: PracticeSettings,
    review_enabled_for_practice_bookings: bool | None = None,
) -> list[PlannedMessage]:
    """Every message of this appointment state that is due at a later time."""
    if appointment is None or not appointment.notifications_enabled:
        return []
    planned: list[PlannedMessage] = []
    if appointment.is_active:
        planned += _reminders(appointment, settings)
    elif appointment.status is AppointmentStatus.NO_SHOW:
        # A missed visit: no review request; a prompt to book again if the practice wants it.
        if settings.rebook_after_no_show and settings.booking_url:
            planned.append(_after_visit(MessageKind.REBOOKING_PROMPT, appointment, REBOOKING_DELAY, settings))
    elif appointment.status is AppointmentStatus.ATTENDED:
        practice_opted_in = (
            settings.review_for_practice_bookings
            if review_enabled_for_practice_bookings is None
            else review_enabled_for_practice_bookings
        )
        wants_review = appointment.source is not BookingSource.PRACTICE or practice_opted_in
        if wants_review and settings.review_url:
            planned.append(_after_visit(MessageKind.REVIEW_REQUEST, appointment, REVIEW_DELAY, settings))
        if settings.booking_url:
            planned.append(_after_visit(MessageKind.REBOOKING_PROMPT, appointment, REBOOKING_DELAY, settings))
    return planned


def _reminders(appointment: Appointment, settings: PracticeSettings) -> list[PlannedMessage]:
    """R2's reminder, or each of the practice's several (R10), moved out of quiet hours
    (B2); none once confirmed if the practice says so."""
    if appointment.status is AppointmentStatus.CONFIRMED and not settings.remind_after_confirmation:
        return []
    if settings.reminder_offsets_hours:
        wanted: list[tuple[int | None, datetime]] = list(
            reminders_due(appointment.start, appointment.booked_at, settings.reminder_offsets_hours)
        )
    else:
        due = reminder_due_at(
            appointment.start, appointment.booked_at, settings.reminder_policy, settings.fixed_offset_hours
        )
        wanted = [] if due is None else [(None, due)]
    return [
        PlannedMessage(MessageKind.REMINDER, at, offset, spread_minutes(at, appointment.start, settings))
        for offset, at in ((o, _quiet(due, settings)) for o, due in wanted)
        if at < appointment.start
    ]


def _after_visit(
    kind: MessageKind, appointment: Appointment, delay: timedelta, settings: PracticeSettings
) -> PlannedMessage:
    """A message `delay` after the visit ended, out of quiet hours, spread (R7, R8)."""
    due = _quiet(appointment.end.astimezone(UTC) + delay, settings)
    return PlannedMessage(kind, due, window_minutes=spread_minutes(due, None, settings))


def spread_minutes(due: datetime, start: datetime | None, settings: PracticeSettings) -> int:
    """How long after `due` a routine message (reminder, review request, rebooking prompt)
    may go out: up to SPREAD, so that what quiet hours held back, or what falls due on the
    same quarter hour in every practice (appointments end on a grid), does not all leave
    in one second (issue 16's national day); never into the next quiet hours and, for a
    reminder, never more than a quarter of the time left to the appointment (a 24h
    reminder arrives 23-24h before)."""
    window = SPREAD if start is None else min(SPREAD, (start.astimezone(UTC) - due.astimezone(UTC)) / 4)
    end = due + window
    if settings.quiet_start != settings.quiet_end and _quiet(end, settings) != end:
        zone = ZoneInfo(settings.timezone)
        quiet_begins = datetime.combine(due.astimezone(zone).date(), settings.quiet_start, tzinfo=zone)
        if quiet_begins <= due:
            quiet_begins += timedelta(days=1)
        # A minute's margin: Scheduler may invoke at the window's very end.
        window = min(window, quiet_begins.astimezone(UTC) - due.astimezone(UTC) - timedelta(minutes=1))
    return max(0, int(window.total_seconds() // 60))


def _quiet(moment: datetime, settings: PracticeSettings) -> datetime:
    return defer_out_of_quiet_hours(moment, settings.timezone, settings.quiet_start, settings.quiet_end)


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
    if kind is MessageKind.REBOOKING_PROMPT and appointment.status is AppointmentStatus.NO_SHOW:
        return None  # planned only when the practice wants it (timed_messages)
    if kind in (MessageKind.REVIEW_REQUEST, MessageKind.REBOOKING_PROMPT):
        return None if appointment.status is AppointmentStatus.ATTENDED else "not attended"
    if not appointment.is_active:
        return f"appointment is {appointment.status.value}"
    return None


def settlement_name(current: Appointment, attempt: int = 0) -> str:
    """The settle schedule of one state of an appointment (B9): the same state plans the
    same name (a replayed record plans nothing new), a new state its own."""
    fingerprint = hashlib.sha256(repr((current.snapshot(), attempt)).encode()).hexdigest()[:12]
    return _safe_name(
        f"{current.practice_id}.{current.appointment_id}.settle.{fingerprint}", f"settle.{fingerprint}"
    )


def follow_settings_name(practice_id: str, configuration: str, after: str | None) -> str:
    """The schedule of one page of a settings change's follow-up (C8): a replayed page
    plans the same next page."""
    fingerprint = hashlib.sha256(f"{configuration}|{after}".encode()).hexdigest()[:16]
    return _safe_name(f"{practice_id}.settings.{fingerprint}", f"settings.{fingerprint}")


def offer_wave_name(practice_id: str, slot_id: str, wave: int) -> str:
    """The schedule of a freed slot's next round of offers (F1 waves)."""
    return _safe_name(f"{practice_id}.{slot_id}.wave{wave}", f"{slot_id}.wave{wave}")


def leave_name(practice_id: str, run: int) -> str:
    """The schedule of one run of a closed practice's erasure (D19)."""
    return _safe_name(f"{practice_id}.leave.{run}", f"leave.{run}")


def schedule_name(
    practice_id: str, appointment_id: str, kind: MessageKind, version: int, offset_hours: int | None = None
) -> str:
    """A deterministic EventBridge Scheduler name (<= 64 chars of [0-9A-Za-z-_.])."""
    step = "" if offset_hours is None else f".{offset_hours}h"
    return _safe_name(
        f"{practice_id}.{appointment_id}.{kind.value}.v{version}{step}", f"{kind.value}.v{version}{step}"
    )


def _safe_name(raw: str, short: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in raw)
    if len(safe) <= 64:
        return safe
    return f"{short}.{hashlib.sha256(raw.encode()).hexdigest()[:16]}"

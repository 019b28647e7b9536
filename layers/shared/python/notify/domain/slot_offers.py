"""Freed slots (F1-F3): when a slot is freed, who is offered it, who may take it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from .appointment_changes import StatusChange, TimeChange, apply_changes
from .event_order import Aspect, ChangeStamp
from .model import Appointment, AppointmentStatus, FreedSlot, PracticeSettings, SlotStatus


def freed_slot(
    announced: Appointment | None, current: Appointment | None, settings: PracticeSettings
) -> FreedSlot | None:
    """The slot the appointment left, if this settled change frees one worth offering
    (F1, F3). `announced` is the appointment as the calendar last knew it (B9: a slot held
    only between two edits of a burst was never free to anybody).

    A slot is freed when an announced, active appointment is cancelled or moved elsewhere
    at least `offer_min_notice_hours` (48h) before its start, measured from the change,
    unless the practice said the time it left is not free (`release_slot: false`).
    """
    if announced is None or current is None or not announced.is_active or not settings.offers_enabled:
        return None
    cancelled = current.status is AppointmentStatus.CANCELLED
    moved = current.start != announced.start
    if not (cancelled or (moved and current.is_active)):
        return None
    if (cancelled and current.cancelled_keeping_slot) or (moved and current.moved_keeping_slot):
        return None  # the practice said the time is not free (the practitioner is away)
    if not _notice_enough(announced.start, current, settings):
        return None
    stamps = current.stamp_map
    freeing = [stamps.get(Aspect.STATUS.value, "")] if cancelled else []
    freeing += [stamps.get(Aspect.TIME.value, "")] if moved else []
    return FreedSlot(
        announced.practice_id,
        f"{announced.appointment_id}.v{announced.version}",
        announced.calendar_id,
        announced.start.astimezone(UTC),
        announced.end.astimezone(UTC),
        announced.practitioner,
        announced.appointment_type,
        left_by=announced.patient_id,
        freed_stamp=min(freeing),
    )


def _notice_enough(freed_from: datetime, current: Appointment, settings: PracticeSettings) -> bool:
    """F1: the time freed at `freed_from` is `offer_min_notice_hours` ahead of the change
    that freed it (the appointment's last change of time or status)."""
    changed_at = (current.changed_at or current.booked_at).astimezone(UTC)
    return freed_from.astimezone(UTC) - changed_at >= timedelta(hours=settings.offer_min_notice_hours)


# F2: how long before a freed slot an appointment may start and still run into it.
LONGEST_VISIT = timedelta(hours=12)


def filled_by(slot: FreedSlot, around: list[Appointment]) -> Appointment | None:
    """The appointment the practice booked into the slot's time itself, if any (F2: the
    slot is then no longer available): an active appointment of its calendar that
    overlaps it and came to its time by a change not older than the one that freed it (a
    PMS that moves one patient into another's time may stamp both changes alike). One
    that held an overlapping time before (a calendar that books two at once) leaves the
    slot free; `around` is the calendar from `LONGEST_VISIT` before the slot to its end."""
    own = slot.slot_id.rpartition(".v")[0]
    for appointment in around:
        if (
            appointment.calendar_id == slot.calendar_id
            and appointment.appointment_id != own
            and appointment.is_active
            and appointment.start.astimezone(UTC) < slot.end
            and appointment.end.astimezone(UTC) > slot.start
            and appointment.stamp_map.get(Aspect.TIME.value, "") >= slot.freed_stamp
        ):
            return appointment
    return None


def pick_candidates(
    slot: FreedSlot,
    later: list[Appointment],
    settings: PracticeSettings,
    asap: list[Appointment] | None = None,
    offered: frozenset[str] = frozenset(),
    limit: int | None = None,
) -> list[Appointment]:
    """Who is offered the slot, `offer_candidates` (10) at most, one offer per patient:
    first the ASAP list of the slot's calendar (F4: whoever asked for an earlier time and
    is booked after the slot, longest waiting first), then the active appointments that
    start at least `offer_min_gap_hours` (48h) after the slot, earliest first (F1).

    Only an appointment that fits in the slot's time (a 60-minute treatment is not
    offered a 30-minute gap). Never the patient who just left the slot, with any of their
    appointments: they moved away from it (or cancelled it) themselves or with the
    practice, and an offer to take it back would only confuse them. A later wave passes
    the appointments `offered` already: neither they nor their patients are offered it
    again. `limit`: how many at most (`offer_candidates` unless given; one more tells
    whether a next wave has anyone).
    """

    def open_to(a: Appointment) -> bool:
        return (
            a.calendar_id == slot.calendar_id
            and a.is_active
            and a.notifications_enabled
            and a.patient_id != slot.left_by
            and fits(a, slot)
        )

    earliest = slot.start + timedelta(hours=settings.offer_min_gap_hours)
    waiting = sorted(
        (a for a in asap or [] if open_to(a) and a.asap_since and a.start.astimezone(UTC) >= slot.end),
        key=lambda a: (a.asap_since or a.start, a.appointment_id),
    )
    in_order = sorted(
        (a for a in later if open_to(a) and a.start.astimezone(UTC) >= earliest),
        key=lambda a: (a.start, a.appointment_id),
    )
    chosen: list[Appointment] = []
    patients = {a.patient_id for a in [*waiting, *in_order] if a.appointment_id in offered}
    for appointment in [*waiting, *in_order]:
        if appointment.patient_id in patients or appointment.appointment_id in offered:
            continue  # one offer per patient: their earliest appointment moves
        patients.add(appointment.patient_id)
        chosen.append(appointment)
        if len(chosen) == (limit or settings.offer_candidates):
            break
    return chosen


NO_LONGER_AVAILABLE = "no longer available"


def fits(appointment: Appointment, slot: FreedSlot) -> bool:
    """The appointment's visit is not longer than the freed time (F1)."""
    return appointment.end - appointment.start <= slot.end - slot.start


def refusal(slot: FreedSlot | None, candidate: Appointment, now: datetime) -> str | None:
    """Why this candidate cannot take the slot now, or None (F2).

    A patient who moved, cancelled or took a better slot meanwhile is refused: only an
    active appointment later than the slot can move into it.
    """
    if slot is None:
        return "offer not found"
    if slot.status is not SlotStatus.OPEN:
        return NO_LONGER_AVAILABLE
    if slot.start <= now.astimezone(UTC):
        return NO_LONGER_AVAILABLE
    if not candidate.is_active:
        return f"your appointment is {candidate.status.value}"
    if candidate.start.astimezone(UTC) <= slot.start:
        return "your appointment is already earlier"
    if not fits(candidate, slot):
        return "your appointment is longer than this time"
    return None


def moved_into(candidate: Appointment, slot: FreedSlot, now: datetime) -> Appointment:
    """The candidate's appointment after taking the slot: a new version (R3 replans),
    confirmed by the acceptance, at the slot's start and as long as it was (a shorter visit
    leaves the rest of the time free). The patient's action is a real-world change at
    `now`: a practice event about an earlier moment no longer overrides it (B9)."""
    moved = TimeChange(slot.start, slot.start + (candidate.end - candidate.start))
    taken = apply_changes(
        candidate,
        (moved, StatusChange(AppointmentStatus.CONFIRMED)),
        ChangeStamp(now),
        now,
    ).appointment
    return replace(taken, took_slot_until=slot.end)  # D23: the rest of the slot is free


# D23: the rest of a freed slot after a shorter visit is offered when at least this long.
REST_WORTH_OFFERING = timedelta(minutes=15)


def rest_of_slot(
    announced: Appointment | None, current: Appointment | None, settings: PracticeSettings
) -> FreedSlot | None:
    """The rest of a freed slot that a shorter visit took (D23), once the move settles:
    from the visit's end to the slot's, when it is `REST_WORTH_OFFERING` or more and
    `offer_min_notice_hours` ahead, as F1 measures a freed slot's notice. It is freed by
    the acceptance (its stamp), and never offered to the patient who took the slot."""
    if announced is None or current is None or not settings.offers_enabled or not current.is_active:
        return None
    until = current.took_slot_until
    if until is None or current.start == announced.start:  # not this settle's move into a slot
        return None
    if until - current.end < REST_WORTH_OFFERING:
        return None
    if not _notice_enough(current.end, current, settings):
        return None
    return FreedSlot(
        current.practice_id,
        f"{current.appointment_id}.v{current.version}.rest",
        current.calendar_id,
        current.end.astimezone(UTC),
        until.astimezone(UTC),
        current.practitioner,
        left_by=current.patient_id,
        freed_stamp=current.stamp_map.get(Aspect.TIME.value, ""),
    )

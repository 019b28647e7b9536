"""Freed slots (F1-F3): when a slot is freed, who is offered it, who may take it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from .model import Appointment, AppointmentStatus, FreedSlot, PracticeSettings, SlotStatus


def freed_slot(old: Appointment | None, new: Appointment | None, now: datetime,
               settings: PracticeSettings) -> FreedSlot | None:
    """The slot `old` left, if this change frees one worth offering (F1, F3).

    A slot is freed when an active appointment is cancelled or moved elsewhere, at least
    `offer_min_notice_hours` (48h) before its start.
    """
    if old is None or new is None or not old.is_active or not settings.offers_enabled:
        return None
    cancelled = new.status is AppointmentStatus.CANCELLED
    moved = new.is_active and new.version != old.version and new.start != old.start
    if not (cancelled or moved):
        return None
    if old.start.astimezone(UTC) - now.astimezone(UTC) < timedelta(hours=settings.offer_min_notice_hours):
        return None
    return FreedSlot(old.practice_id, f"{old.appointment_id}.v{old.version}", old.calendar_id,
                     old.start.astimezone(UTC), old.end.astimezone(UTC), old.practitioner,
                     old.appointment_type)


def pick_candidates(slot: FreedSlot, later: list[Appointment],
                    settings: PracticeSettings) -> list[Appointment]:
    """The first `offer_candidates` (10) active appointments of the slot's calendar that
    start at least `offer_min_gap_hours` (48h) after the slot, earliest first (F1)."""
    earliest = slot.start + timedelta(hours=settings.offer_min_gap_hours)
    eligible = [a for a in later
                if a.calendar_id == slot.calendar_id and a.is_active
                and a.notifications_enabled and a.start.astimezone(UTC) >= earliest]
    eligible.sort(key=lambda a: (a.start, a.appointment_id))
    chosen: list[Appointment] = []
    patients: set[str] = set()
    for appointment in eligible:
        if appointment.patient_id in patients:
            continue  # one offer per patient: their earliest appointment moves
        patients.add(appointment.patient_id)
        chosen.append(appointment)
        if len(chosen) == settings.offer_candidates:
            break
    return chosen


def refusal(slot: FreedSlot | None, candidate: Appointment, now: datetime) -> str | None:
    """Why this candidate cannot take the slot now, or None (F2).

    A patient who moved, cancelled or took a better slot meanwhile is refused: only an
    active appointment later than the slot can move into it.
    """
    if slot is None:
        return "offer not found"
    if slot.status is not SlotStatus.OPEN:
        return "no longer available"
    if slot.start <= now.astimezone(UTC):
        return "no longer available"
    if not candidate.is_active:
        return f"your appointment is {candidate.status.value}"
    if candidate.start.astimezone(UTC) <= slot.start:
        return "your appointment is already earlier"
    return None


def moved_into(candidate: Appointment, slot: FreedSlot) -> Appointment:
    """The candidate's appointment after taking the slot (a new version: R3 replans)."""
    return replace(candidate, start=slot.start, end=slot.end, version=candidate.version + 1,
                   status=AppointmentStatus.CONFIRMED)

"""Freed-slot offers (F1-F3, B6): fan out when a slot frees, first acceptance wins."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..adapters import scheduler
from ..contracts import OfferWaveRequest, SendRequest
from ..dal import slots as slot_store
from ..dal.appointments import get_appointment
from ..dal.callbacks import callback_item
from ..dal.practices import PracticeRecord
from ..domain.message_plan import offer_wave_name, schedule_name
from ..domain.model import Appointment, FreedSlot, MessageKind, PracticeSettings, SlotStatus
from ..domain.quiet_hours import defer_out_of_quiet_hours
from ..domain.slot_offers import (
    LONGEST_VISIT,
    NO_LONGER_AVAILABLE,
    filled_by,
    freed_slot,
    moved_into,
    pick_candidates,
    refusal,
    rest_of_slot,
)
from ..observability import logger, metrics
from . import outcomes
from .patient_actions import AppointmentView, open_link, view_for

if TYPE_CHECKING:
    from .planning import Planning


def release_slot(
    announced: Appointment | None,
    current: Appointment,
    practice: PracticeRecord,
    planning: Planning,
    now: datetime,
) -> list[str]:
    """Offer the slot the appointment held (as last announced) to the next patients, once
    the change has settled, and the rest of a slot a shorter visit took (D23); returns the
    offered appointment ids."""
    settings = practice.settings_for(current.calendar_id)
    offered: list[str] = []
    for slot in (freed_slot(announced, current, settings), rest_of_slot(announced, current, settings)):
        if slot is not None:
            offered += _release(slot, settings, planning, now)
    return offered


def _release(slot: FreedSlot, settings: PracticeSettings, planning: Planning, now: datetime) -> list[str]:
    later, asap, filled = _calendar_from(slot)
    if filled is not None:  # the practice booked its time again before the change settled
        logger.info("slot released", slot_id=slot.slot_id, offers=0, filled_by=filled)
        return []
    candidates, more = _next_candidates(slot, later, asap, settings, frozenset())
    if not candidates:  # nobody to offer it to: no slot to record (only offers read it)
        logger.info("slot released", slot_id=slot.slot_id, offers=0)
        return []
    if not slot_store.open_slot(slot, [c.appointment_id for c in candidates], now):
        return []  # a replayed stream record: offers went out the first time
    _offer(slot, candidates, more, settings, planning, now)
    outcomes.record(slot.practice_id, slot.calendar_id, settings.timezone, now, slots_offered=1)
    logger.info("slot released", slot_id=slot.slot_id, offers=len(candidates))
    return [c.appointment_id for c in candidates]


def next_wave(request: OfferWaveRequest, practice: PracticeRecord, planning: Planning, now: datetime) -> list[str]:
    """F1 waves: a freed slot nobody took since its last offers goes to the next
    candidates, while it is open, still `offer_min_notice_hours` ahead, and not booked
    again by the practice (D20); returns the offered appointment ids."""
    found = slot_store.get_slot(request.practice_id, request.slot_id)
    if found is None or found[0].status is not SlotStatus.OPEN or found[0].wave != request.wave - 1:
        return []  # taken, filled or expired; or this wave went already (a repeated firing)
    slot, offered = found
    settings = practice.settings_for(slot.calendar_id)
    if not settings.offers_enabled or slot.start - now < timedelta(hours=settings.offer_min_notice_hours):
        return []
    later, asap, filled = _calendar_from(slot)
    if filled is not None:
        _mark_filled(slot, filled)
        return []
    candidates, more = _next_candidates(slot, later, asap, settings, frozenset(offered))
    if not candidates or not slot_store.add_wave(slot, [*offered, *(c.appointment_id for c in candidates)]):
        return []  # nobody left; or taken, filled or recorded meanwhile
    _offer(replace(slot, wave=request.wave), candidates, more, settings, planning, now)
    logger.info("slot offered again", slot_id=slot.slot_id, wave=request.wave, offers=len(candidates))
    return [c.appointment_id for c in candidates]


def _calendar_from(slot: FreedSlot) -> tuple[list[Appointment], list[Appointment], str | None]:
    """The slot's candidates (F1, F4), read from early enough to see who runs into its
    time, and the appointment the practice booked into it itself, if any (D20): one query."""
    later, asap = slot_store.candidates(slot.practice_id, slot.calendar_id, slot.start - LONGEST_VISIT)
    filled = filled_by(slot, later)
    return later, asap, filled.appointment_id if filled is not None else None


def _booked_into(slot: FreedSlot) -> Appointment | None:
    """The appointment the practice booked into the open slot's time itself (D20), read
    from the calendar around it: one query."""
    around = slot_store.calendar_between(slot.practice_id, slot.calendar_id, slot.start - LONGEST_VISIT, slot.end)
    return filled_by(slot, around)


def filled_while_held(slot: FreedSlot) -> bool:
    """D20 for an offer held back by quiet hours: it goes hours after the slot was freed,
    and the practice may have booked the time meanwhile (its online booking overnight).
    Found, the slot is closed for good, so the round's other held offers see it without
    a query; not found, the offer goes."""
    filled = _booked_into(slot)
    if filled is None:
        return False
    _mark_filled(slot, filled.appointment_id)
    return True


def _mark_filled(slot: FreedSlot, appointment_id: str) -> None:
    """D20: the slot is closed for good, so later pages and sends need not look again."""
    if slot_store.fill_slot(slot, appointment_id):
        metrics.add_metric(name="OfferSlotFilledByPractice", unit="Count", value=1)
        logger.info("slot filled by the practice", slot_id=slot.slot_id, appointment_id=appointment_id)


def _next_candidates(
    slot: FreedSlot,
    later: list[Appointment],
    asap: list[Appointment],
    settings: PracticeSettings,
    offered: frozenset[str],
) -> tuple[list[Appointment], bool]:
    """This round's candidates, and whether anyone would be left for another."""
    chosen = pick_candidates(slot, later, settings, asap, offered, limit=settings.offer_candidates + 1)
    return chosen[: settings.offer_candidates], len(chosen) > settings.offer_candidates


def _offer(
    slot: FreedSlot,
    candidates: list[Appointment],
    more: bool,
    settings: PracticeSettings,
    planning: Planning,
    now: datetime,
) -> None:
    """Send this round's offers (held back out of quiet hours, B2), and plan the next
    round when the practice wants one and someone is left for it."""
    send_at = defer_out_of_quiet_hours(now, settings.timezone, settings.quiet_start, settings.quiet_end)
    for candidate in candidates:
        request = SendRequest.for_appointment(
            candidate.practice_id,
            candidate.appointment_id,
            MessageKind.SLOT_OFFER,
            candidate.version,
            slot_id=slot.slot_id,
            patient_id=candidate.patient_id,
            held=send_at > now,
        )
        if send_at <= now:
            planning.invoker.send_now(request)
        else:
            name = schedule_name(
                candidate.practice_id,
                f"{candidate.appointment_id}.{slot.slot_id}",
                MessageKind.SLOT_OFFER,
                candidate.version,
            )
            scheduler.plan_schedule(planning.messages, name, send_at, request.payload())
    metrics.add_metric(name="OffersSent", unit="Count", value=len(candidates))
    if more and slot.wave < settings.offer_waves:
        wave = OfferWaveRequest(practice_id=slot.practice_id, slot_id=slot.slot_id, wave=slot.wave + 1)
        scheduler.plan_schedule(
            planning.settlements,
            offer_wave_name(slot.practice_id, slot.slot_id, wave.wave),
            send_at + timedelta(minutes=settings.offer_wave_minutes),
            {"offer_wave": wave.model_dump()},
        )


@dataclass(frozen=True)
class OfferView:
    view: AppointmentView
    slot: FreedSlot | None
    refusal: str | None
    won: bool = False  # this patient took the slot (reopening the offer, or a double tap)
    filled_by: str | None = None  # found now: the practice booked the slot's time itself


def view_offer(token: str, slot_id: str, now: datetime) -> OfferView:
    """The offer as the patient's page shows it. An open slot the practice has booked
    again itself (F2) shows as no longer available; a GET writes nothing, so the slot
    is marked filled only when someone tries to take it."""
    view = open_link(token, now, slot_id)
    found = slot_store.get_slot(view.appointment.practice_id, slot_id)
    if found is None or view.appointment.appointment_id not in found[1]:
        return OfferView(view, None, "offer not found")
    slot = found[0]
    if slot.winner_appointment_id == view.appointment.appointment_id:
        return OfferView(view, slot, None, won=True)
    reason = refusal(slot, view.appointment, now)
    if reason is None:
        filled = _booked_into(slot)
        if filled is not None:
            slot = replace(slot, status=SlotStatus.FILLED, filled_by=filled.appointment_id)
            return OfferView(view, slot, NO_LONGER_AVAILABLE, filled_by=filled.appointment_id)
    return OfferView(view, slot, reason)


def accept_offer(token: str, slot_id: str, now: datetime) -> OfferView:
    """Move the patient's appointment into the slot if nobody was faster (F2, F3, B6):
    not another patient, and not the practice booking its time itself."""
    offer = view_offer(token, slot_id, now)
    if offer.slot is not None and offer.filled_by is not None:
        _mark_filled(offer.slot, offer.filled_by)
    if offer.won or offer.refusal is not None or offer.slot is None:
        return offer  # the winner tapping again gets the win again
    appointment, revision = get_appointment(
        offer.view.appointment.practice_id, offer.view.appointment.appointment_id
    )
    reason = refusal(offer.slot, appointment, now)
    if reason is not None:
        return OfferView(offer.view, offer.slot, reason)
    moved = moved_into(appointment, offer.slot, now)
    notice = callback_item(
        moved.practice_id,
        "appointment.moved",
        {
            "appointment_id": moved.appointment_id,
            "patient_id": moved.patient_id,
            "from": {"start": appointment.start.isoformat(), "end": appointment.end.isoformat()},
            "to": {"start": moved.start.isoformat(), "end": moved.end.isoformat()},
            "slot_id": offer.slot.slot_id,
            "reason": "freed slot accepted by the patient",
        },
        now,
    )
    if not slot_store.take_slot(offer.slot, moved, revision, [notice]):
        metrics.add_metric(name="OfferTooLate", unit="Count", value=1)
        return OfferView(offer.view, offer.slot, NO_LONGER_AVAILABLE)
    metrics.add_metric(name="OffersClaimed", unit="Count", value=1)
    opened = offer.slot.opened_at or now
    outcomes.record(
        moved.practice_id,
        offer.slot.calendar_id,
        offer.view.settings.timezone,
        now,
        fill_minutes=(now - opened).total_seconds() / 60,
        slots_filled=1,
    )
    logger.info("slot taken", slot_id=offer.slot.slot_id, appointment_id=moved.appointment_id)
    # The page shows the appointment as just written (not read again).
    return OfferView(view_for(offer.view.token, moved, now), offer.slot, None, won=True)

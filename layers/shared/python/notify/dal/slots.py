"""Freed slots, their candidates, and the one conditional write that picks the winner."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from ..domain.event_order import ChangeStamp
from ..domain.model import Appointment, FreedSlot, SlotStatus
from . import keys
from .conversions import appointment_from_item, appointment_to_item
from .errors import condition_held
from .models import AppointmentItem, NotifyItem, SlotItem
from .read_cache import transaction


def asap_appointments(practice_id: str, calendar_id: str, after: datetime) -> list[Appointment]:
    """F4: the calendar's appointments after `after` whose patients asked for an earlier
    time (gsi1, every page: the list is never cut at the F1 window)."""
    key, floor = keys.calendar(practice_id, calendar_id), keys.moment(after)
    items = AppointmentItem.calendar_index.query(
        key, NotifyItem.gsi1sk > floor, filter_condition=AppointmentItem.asap_since.exists()
    )
    return [appointment_from_item(i) for i in items if isinstance(i, AppointmentItem)]


def candidates(
    practice_id: str, calendar_id: str, not_before: datetime, limit: int = 200
) -> tuple[list[Appointment], list[Appointment]]:
    """A freed slot's candidates: the calendar's appointments from `not_before` (the first
    `limit`, F1; the caller starts early enough to see who runs into the slot, F2) and, of
    all of them, those whose patients asked for an earlier time (F4). One query when the
    calendar has fewer than `limit` from then on (the F4 list is among them); a second,
    every page, when the first was cut."""
    key, floor = keys.calendar(practice_id, calendar_id), keys.moment(not_before)
    items = list(AppointmentItem.calendar_index.query(key, NotifyItem.gsi1sk >= floor, limit=limit))
    later = [appointment_from_item(i) for i in items if isinstance(i, AppointmentItem)]
    if len(items) < limit:  # the query reached the calendar's end
        return later, [a for a in later if a.asap_since is not None]
    return later, asap_appointments(practice_id, calendar_id, not_before)


def calendar_between(practice_id: str, calendar_id: str, start: datetime, end: datetime) -> list[Appointment]:
    """The calendar's appointments starting from `start` and before `end` (one query, a
    slot's time and what may run into it: a few items)."""
    key = keys.calendar(practice_id, calendar_id)
    items = AppointmentItem.calendar_index.query(
        key, NotifyItem.gsi1sk.between(keys.moment(start), keys.moment(end))
    )
    return [appointment_from_item(i) for i in items if isinstance(i, AppointmentItem)]


def open_slot(slot: FreedSlot, offered_to: list[str], now: datetime) -> bool:
    """Record the slot once; False if a replayed record opened it already."""
    item = SlotItem(
        *SlotItem.key(slot.practice_id, slot.slot_id),
        practice_id=slot.practice_id,
        slot_id=slot.slot_id,
        calendar_id=slot.calendar_id,
        start=slot.start,
        end=slot.end,
        practitioner=slot.practitioner,
        appointment_type=slot.appointment_type,
        offered_to=offered_to,
        created_at=now,
        freed_stamp=slot.freed_stamp or None,
    )
    item.expires_at = slot.end
    return condition_held(lambda: item.save(condition=SlotItem.pk.does_not_exist()))


def get_slot(practice_id: str, slot_id: str) -> tuple[FreedSlot, list[str]] | None:
    try:
        item = SlotItem.get(*SlotItem.key(practice_id, slot_id), consistent_read=True)
    except SlotItem.DoesNotExist:
        return None
    slot = FreedSlot(
        item.practice_id,
        item.slot_id,
        item.calendar_id,
        item.start,
        item.end,
        item.practitioner,
        item.appointment_type,
        SlotStatus(item.status),
        item.winner_appointment_id,
        opened_at=item.created_at,
        # a slot written before the stamp was kept: freed when it was offered
        freed_stamp=item.freed_stamp or ChangeStamp(item.created_at).key,
        filled_by=item.filled_by,
        wave=int(item.wave or 1),
    )
    return slot, list(item.offered_to or [])


def add_wave(slot: FreedSlot, offered_to: list[str]) -> bool:
    """Record the next round of offers (F1 waves): who has been offered the slot now.
    False if it was taken or filled meanwhile, or this round was recorded already (a
    schedule firing twice)."""
    item = SlotItem(*SlotItem.key(slot.practice_id, slot.slot_id))
    first = SlotItem.wave.does_not_exist() if slot.wave == 1 else SlotItem.wave == slot.wave
    return condition_held(
        lambda: item.update(
            actions=[SlotItem.offered_to.set(offered_to), SlotItem.wave.set(slot.wave + 1)],
            condition=(SlotItem.status == SlotStatus.OPEN.value) & first,
        )
    )


def fill_slot(slot: FreedSlot, appointment_id: str) -> bool:
    """Mark an open slot filled by the practice's own booking (F2); False if it was
    taken or filled meanwhile."""
    item = SlotItem(*SlotItem.key(slot.practice_id, slot.slot_id))
    return condition_held(
        lambda: item.update(
            actions=[SlotItem.status.set(SlotStatus.FILLED.value), SlotItem.filled_by.set(appointment_id)],
            condition=SlotItem.status == SlotStatus.OPEN.value,
        )
    )


def take_slot(slot: FreedSlot, moved: Appointment, revision: int, also: list[NotifyItem]) -> bool:
    """Atomically mark the slot taken by `moved` and move the appointment (F2, F3).

    Returns False when someone else won (or the appointment changed meanwhile): nothing
    is written then.
    """
    slot_item = SlotItem(*SlotItem.key(slot.practice_id, slot.slot_id))
    try:
        with transaction() as tx:
            tx.update(
                slot_item,
                actions=[
                    SlotItem.status.set(SlotStatus.TAKEN.value),
                    SlotItem.winner_appointment_id.set(moved.appointment_id),
                ],
                condition=SlotItem.status == SlotStatus.OPEN.value,
            )
            tx.save(appointment_to_item(moved, revision))
            for item in also:
                tx.save(item)
    except TransactWriteError as exc:
        if any(r and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons):
            return False
        raise
    return True

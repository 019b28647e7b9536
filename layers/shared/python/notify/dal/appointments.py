"""Appointments, their patient links, and the webhook events that changed them.

Every change is one transaction: the event marker (so a replayed `event_id` is applied
once, B4), the appointment (optimistic lock on `revision`), and its link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from ..domain.appointment_changes import Held
from ..domain.model import Appointment
from ..domain.patient_link import link_expiry, token_digest
from . import keys
from .conversions import appointment_from_item, appointment_to_item, snapshot_to_json
from .errors import ConflictError, DuplicateEventError, ExpiredLinkError, NotFoundError
from .models import (
    AppointmentItem,
    EventItem,
    HeldChangesItem,
    LinkItem,
    NotifyItem,
    practice_items_from,
)
from .read_cache import transaction

EVENT_RETENTION_DAYS = 30
HELD_RETENTION = timedelta(days=30)  # a creation that never comes: the tombstone expires


def get_appointment(practice_id: str, appointment_id: str) -> tuple[Appointment, int]:
    """Return the appointment and its revision; raise NotFoundError."""
    try:
        item = AppointmentItem.get(*AppointmentItem.key(practice_id, appointment_id), consistent_read=True)
    except AppointmentItem.DoesNotExist as exc:
        raise NotFoundError(f"appointment {appointment_id}") from exc
    return appointment_from_item(item), int(item.revision)


def find_appointment(practice_id: str, appointment_id: str) -> Appointment | None:
    try:
        return get_appointment(practice_id, appointment_id)[0]
    except NotFoundError:
        return None


def _marker(practice_id: str, event: tuple[str, str], now: datetime) -> EventItem:
    marker = EventItem(*EventItem.key(practice_id, event[0]), event_type=event[1], received_at=now)
    marker.expires_at = now + timedelta(days=EVENT_RETENTION_DAYS)
    return marker


def write_appointment(
    new: Appointment,
    revision: int | None,
    now: datetime,
    event: tuple[str, str] | None = None,
    also: list[NotifyItem] | None = None,
    held_revision: int | None = None,
    link_digest: str | None = None,
    patient_update: tuple[NotifyItem, list[Any]] | None = None,
) -> None:
    """Write `new` if the stored revision is still `revision` (None: must not exist).

    Args:
        event: (event_id, event_type) of the webhook event, recorded atomically.
        also: further items written in the same transaction (practice callbacks).
        held_revision: creating an appointment whose held changes (at this revision) were
            folded in: they are consumed in the same transaction. A creation without
            them checks that none were held meanwhile (B9).
        link_digest: the digest of the patient link's token, written with it (P3).
        patient_update: an update of the patient's item (its actions) that holds with
            the change (C3's attended platform booking), so neither goes without the other.
    Raises:
        DuplicateEventError: the event was applied before (nothing written).
        ConflictError: the appointment changed meanwhile, already exists, or changes
            were held for it meanwhile.
    """
    item = appointment_to_item(new, revision)
    item.updated_at = now
    try:
        with transaction() as tx:
            if event is not None:
                tx.save(_marker(new.practice_id, event, now), condition=EventItem.pk.does_not_exist())
            tx.save(item)
            if revision is None:
                held = HeldChangesItem(*HeldChangesItem.key(new.practice_id, new.appointment_id))
                if held_revision is None:
                    tx.condition_check(
                        HeldChangesItem, held.pk, held.sk, condition=HeldChangesItem.pk.does_not_exist()
                    )
                else:
                    held.revision = held_revision
                    tx.delete(held)
            if link_digest:
                link = LinkItem(
                    *LinkItem.key(link_digest),
                    practice_id=new.practice_id,
                    appointment_id=new.appointment_id,
                    patient_id=new.patient_id,
                )
                link.expires_at = link_expiry(new.end)
                tx.save(link)
            for extra in also or []:
                tx.save(extra)
            if patient_update is not None:
                tx.update(patient_update[0], actions=patient_update[1])
    except TransactWriteError as exc:
        _refused(exc, new.practice_id, event[0] if event else None)
        raise


def get_held(practice_id: str, appointment_id: str) -> tuple[Held, int | None]:
    """Changes held for an appointment not created yet, and their revision (None: none)."""
    try:
        item = HeldChangesItem.get(*HeldChangesItem.key(practice_id, appointment_id), consistent_read=True)
    except HeldChangesItem.DoesNotExist:
        return Held(), None
    return Held(dict(item.values or {})), int(item.revision)


def hold(
    practice_id: str, appointment_id: str, held: Held, revision: int | None, now: datetime, event: tuple[str, str]
) -> None:
    """Keep changes for an appointment that does not exist yet (B9), atomically with the
    event marker and only while the appointment still does not exist.

    Raises DuplicateEventError, or ConflictError when the appointment was created (or the
    held changes changed) meanwhile: read again and apply.
    """
    item = HeldChangesItem(
        *HeldChangesItem.key(practice_id, appointment_id),
        practice_id=practice_id,
        appointment_id=appointment_id,
        values=held.values,
    )
    if revision is not None:
        item.revision = revision
    item.expires_at = now + HELD_RETENTION
    pk, sk = AppointmentItem.key(practice_id, appointment_id)
    _transact(
        [
            lambda tx: tx.save(_marker(practice_id, event, now), condition=EventItem.pk.does_not_exist()),
            lambda tx: tx.condition_check(AppointmentItem, pk, sk, condition=AppointmentItem.pk.does_not_exist()),
            lambda tx: tx.save(item),
        ],
        practice_id,
        event[0],
    )


def mark_announced(appointment: Appointment, revision: int, now: datetime) -> None:
    """Record that the patient and the calendar now know this state (B9); ConflictError
    if the appointment changed since it was read (the change settles again)."""
    item = AppointmentItem(*AppointmentItem.key(appointment.practice_id, appointment.appointment_id))
    item.revision = revision
    try:
        item.update(
            actions=[
                AppointmentItem.announced.set(snapshot_to_json(appointment.snapshot())),
                AppointmentItem.updated_at.set(now),
            ]
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise ConflictError(appointment.appointment_id) from exc
        raise


Write = Callable[[TransactWrite], object]


def _transact(writes: list[Write], practice_id: str, event_id: str) -> None:
    """One transaction of `writes`, which include the event's marker."""
    try:
        with transaction() as tx:
            for write in writes:
                write(tx)
    except TransactWriteError as exc:
        _refused(exc, practice_id, event_id)
        raise


def _refused(exc: TransactWriteError, practice_id: str, event_id: str | None) -> None:
    """Turn a cancelled transaction into DuplicateEventError (the event's marker exists:
    applied before) or ConflictError (another condition failed); else return.

    The request lists condition checks, deletes, puts and updates in that order (as
    pynamodb sends them), not in the order they were added, so the marker's verdict is
    read from the table rather than from the position of a cancellation reason.
    """
    reasons = [r.code if r else None for r in exc.cancellation_reasons]
    if "ConditionalCheckFailed" not in reasons:
        return
    if event_id is not None:
        try:
            EventItem.get(*EventItem.key(practice_id, event_id), consistent_read=True)
        except EventItem.DoesNotExist:
            pass
        else:
            raise DuplicateEventError(event_id) from exc
    raise ConflictError(event_id or "item") from exc


def record_event(
    practice_id: str,
    event_id: str,
    event_type: str,
    now: datetime,
    effect: NotifyItem | None = None,
    condition: Condition | None = None,
) -> None:
    """Record an event with an optional single-item effect, atomically.

    Raises DuplicateEventError (the marker exists), or ConflictError when `condition` on
    the effect failed (nothing is written then either).
    """
    marker = _marker(practice_id, (event_id, event_type), now)
    writes = [lambda tx: tx.save(marker, condition=EventItem.pk.does_not_exist())]
    if effect is not None:
        writes.append(lambda tx: tx.save(effect, condition=condition))
    _transact(writes, practice_id, event_id)


def has_future_appointment(practice_id: str, patient_id: str, after: datetime) -> bool:
    """R8: does the patient already have an active appointment after `after`? (gsi2)"""
    floor = f"{keys.Prefix.APPOINTMENT}{keys.moment(after)}"
    for item in AppointmentItem.patient_index.query(
        keys.patient_items(practice_id, patient_id), NotifyItem.gsi2sk > floor
    ):
        if isinstance(item, AppointmentItem) and item.status in ("booked", "confirmed"):
            return True
    return False


def appointments_of_patient(practice_id: str, patient_id: str) -> list[Appointment]:
    """The patient's appointments, by start (gsi2)."""
    return [
        appointment_from_item(i)
        for i in AppointmentItem.patient_index.query(keys.patient_items(practice_id, patient_id))
        if isinstance(i, AppointmentItem)
    ]


def appointments_from(practice_id: str, after: str | None) -> Iterator[tuple[str, Appointment]]:
    """The practice's appointments in id order, each with its sort key, from after the sort
    key `after` (models.practice_items_from)."""
    for item in practice_items_from(AppointmentItem, practice_id, keys.Prefix.APPOINTMENT, after):
        yield item.sk, appointment_from_item(item)


def resolve_link(token: str, now: datetime) -> tuple[str, str, str]:
    """Return (practice_id, appointment_id, patient_id); NotFoundError if unknown or expired.

    TTL deletion lags (and never happens on the emulator), so expiry is checked here.
    """
    try:
        link = LinkItem.get(*LinkItem.key(token_digest(token)))
    except LinkItem.DoesNotExist as exc:
        raise NotFoundError("link") from exc
    if link.expires_at is not None and link.expires_at <= now:
        raise ExpiredLinkError(link.practice_id)
    return link.practice_id, link.appointment_id, link.patient_id

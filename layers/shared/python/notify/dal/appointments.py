"""Appointments, their patient links, and the webhook events that changed them.

Every change is one transaction: the event marker (so a replayed `event_id` is applied
once, B4), the appointment (optimistic lock on `revision`), and its link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ..domain.model import Appointment
from ..domain.patient_link import link_expiry
from .conversions import appointment_from_item, appointment_to_item
from .errors import ConflictError, DuplicateEventError, NotFoundError
from .models import REGION, AppointmentItem, EventItem, LinkItem, NotifyItem

EVENT_RETENTION_DAYS = 30


@lru_cache(maxsize=1)
def _connection() -> Connection:
    """One connection per process: creating one builds a botocore session (~50 ms)."""
    return Connection(region=REGION)


def get_appointment(practice_id: str, appointment_id: str) -> tuple[Appointment, int]:
    """Return the appointment and its revision; raise NotFoundError."""
    try:
        item = AppointmentItem.get(*AppointmentItem.key(practice_id, appointment_id),
                                   consistent_read=True)
    except AppointmentItem.DoesNotExist as exc:
        raise NotFoundError(f"appointment {appointment_id}") from exc
    return appointment_from_item(item), int(item.revision)


def find_appointment(practice_id: str, appointment_id: str) -> Appointment | None:
    try:
        return get_appointment(practice_id, appointment_id)[0]
    except NotFoundError:
        return None


def write_appointment(new: Appointment, revision: int | None, now: datetime,
                      event: tuple[str, str] | None = None,
                      also: list[NotifyItem] | None = None) -> None:
    """Write `new` if the stored revision is still `revision` (None: must not exist).

    Args:
        event: (event_id, event_type) of the webhook event, recorded atomically.
        also: further items written in the same transaction (practice callbacks).
    Raises:
        DuplicateEventError: the event was applied before (nothing written).
        ConflictError: the appointment changed meanwhile or already exists.
    """
    item = appointment_to_item(new, revision)
    item.updated_at = now
    try:
        with TransactWrite(connection=_connection()) as tx:
            if event is not None:
                pk, sk = EventItem.key(new.practice_id, event[0])
                marker = EventItem(pk, sk, event_type=event[1], received_at=now)
                marker.expires_at = now + timedelta(days=EVENT_RETENTION_DAYS)
                tx.save(marker, condition=EventItem.pk.does_not_exist())
            tx.save(item)
            if new.link_token:
                link = LinkItem(*LinkItem.key(new.link_token), practice_id=new.practice_id,
                                appointment_id=new.appointment_id, patient_id=new.patient_id)
                link.expires_at = link_expiry(new.end)
                tx.save(link)
            for extra in also or []:
                tx.save(extra)
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in exc.cancellation_reasons]
        if event is not None and reasons and reasons[0] == "ConditionalCheckFailed":
            raise DuplicateEventError(event[0]) from exc
        if "ConditionalCheckFailed" in reasons:
            raise ConflictError(new.appointment_id) from exc
        raise


def record_event(practice_id: str, event_id: str, event_type: str, now: datetime,
                 effect: NotifyItem | None = None) -> None:
    """Record an event with an optional single-item effect, atomically."""
    pk, sk = EventItem.key(practice_id, event_id)
    marker = EventItem(pk, sk, event_type=event_type, received_at=now)
    marker.expires_at = now + timedelta(days=EVENT_RETENTION_DAYS)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(marker, condition=EventItem.pk.does_not_exist())
            if effect is not None:
                tx.save(effect)
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in exc.cancellation_reasons]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise DuplicateEventError(event_id) from exc
        raise


def has_future_appointment(practice_id: str, patient_id: str, after: datetime) -> bool:
    """R8: does the patient already have an active appointment after `after`? (gsi2)"""
    key = f"PATIENT#{practice_id}#{patient_id}"
    floor = "APPT#" + after.strftime("%Y-%m-%dT%H:%M:%SZ")
    for item in AppointmentItem.patient_index.query(key, NotifyItem.gsi2sk > floor):
        if isinstance(item, AppointmentItem) and item.status in ("booked", "confirmed"):
            return True
    return False


def resolve_link(token: str, now: datetime) -> tuple[str, str, str]:
    """Return (practice_id, appointment_id, patient_id); NotFoundError if unknown or expired.

    TTL deletion lags (and never happens on the emulator), so expiry is checked here.
    """
    try:
        link = LinkItem.get(*LinkItem.key(token))
    except LinkItem.DoesNotExist as exc:
        raise NotFoundError("link") from exc
    if link.expires_at is not None and link.expires_at <= now:
        raise NotFoundError("link")
    return link.practice_id, link.appointment_id, link.patient_id

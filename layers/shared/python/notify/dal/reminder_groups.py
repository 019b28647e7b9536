"""The table's side of R11: who shares a mobile number, their appointments of one day, the
one reminder the number gets for them, and the per-patient caps on automated messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from ..domain.model import Appointment
from . import keys
from .conversions import appointment_from_item
from .errors import condition_held
from .models import AppointmentItem, MessageCapItem, NotifyItem, PatientItem, ReminderGroupItem
from .read_cache import transaction


def patients_with_number(practice_id: str, number: str) -> list[str]:
    """The practice's patients whose mobile is `number` (gsi1, set when the PMS sends the
    patient): the patient and their family."""
    return sorted(
        i.patient_id
        for i in PatientItem.calendar_index.query(keys.phone(practice_id, number))
        if isinstance(i, PatientItem)
    )


def appointments_between(practice_id: str, patient_id: str, start: datetime, end: datetime) -> list[Appointment]:
    """The patient's appointments starting in [start, end) (gsi2, in start order)."""
    low = f"{keys.Prefix.APPOINTMENT}{keys.moment(start)}"
    high = f"{keys.Prefix.APPOINTMENT}{keys.moment(end)}"
    return [
        appointment_from_item(i)
        for i in AppointmentItem.patient_index.query(
            keys.patient_items(practice_id, patient_id), NotifyItem.gsi2sk.between(low, high)
        )
        if isinstance(i, AppointmentItem) and i.gsi2sk < high
    ]


@dataclass(frozen=True)
class Group:
    practice_id: str
    owner: str
    appointment_ids: tuple[str, ...]
    day: str


# The owner of a group whose SMS did not go (R11): it covers nobody, and is claimed again.
RELEASED = "released"


def claim_group(
    token_digest: str, practice_id: str, owner: str, appointment_ids: list[str], day: str, expires: datetime
) -> Group:
    """Write the group if nobody has (the first sender owns it); the group as stored."""
    item = ReminderGroupItem(
        *ReminderGroupItem.key(token_digest),
        practice_id=practice_id,
        owner=owner,
        appointment_ids=appointment_ids,
        day=day,
    )
    item.expires_at = expires
    unclaimed = ReminderGroupItem.pk.does_not_exist() | (ReminderGroupItem.owner == RELEASED)
    if not condition_held(lambda: item.save(condition=unclaimed)):
        found = find_group(token_digest)
        assert found is not None, "a group is only deleted by its TTL"
        return found
    return Group(practice_id, owner, tuple(appointment_ids), day)


def release_group(token_digest: str, owner: str) -> bool:
    """Mark the group released if `owner` still owns it (its SMS did not go): the next
    sender of the day claims it afresh. False when someone else owns it."""
    item = ReminderGroupItem(*ReminderGroupItem.key(token_digest))
    return condition_held(
        lambda: item.update(
            actions=[ReminderGroupItem.owner.set(RELEASED)], condition=ReminderGroupItem.owner == owner
        )
    )


def find_group(token_digest: str) -> Group | None:
    try:
        item = ReminderGroupItem.get(*ReminderGroupItem.key(token_digest), consistent_read=True)
    except ReminderGroupItem.DoesNotExist:
        return None
    return Group(item.practice_id, item.owner, tuple(item.appointment_ids or ()), item.day)


def count_message(
    practice_id: str, patient_id: str, periods: list[tuple[str, int, datetime]], message_id: str
) -> bool:
    """Count one automated message in each (period, cap, expiry), all or none; False when a
    period is at its cap. A message already counted (a repeated delivery) counts once and
    is allowed."""
    items = [MessageCapItem(*MessageCapItem.key(practice_id, patient_id, period)) for period, _, _ in periods]
    try:
        with transaction() as tx:
            for item, (_, cap, expires) in zip(items, periods, strict=True):
                tx.update(
                    item,
                    actions=[
                        MessageCapItem.sent.add(1),
                        MessageCapItem.messages.add({message_id}),
                        MessageCapItem.entity.set(MessageCapItem),
                        MessageCapItem.expires_at.set(expires),
                    ],
                    condition=(MessageCapItem.sent.does_not_exist() | (MessageCapItem.sent < cap))
                    & ~MessageCapItem.messages.contains(message_id),
                )
    except TransactWriteError:
        return all(_counted(item, message_id) for item in items)
    return True


def uncount_message(practice_id: str, patient_id: str, periods: list[str], message_id: str) -> None:
    """Give back a message's count (nothing went out on any channel); once."""
    for period in periods:
        item = MessageCapItem(*MessageCapItem.key(practice_id, patient_id, period))
        condition_held(
            lambda item=item: item.update(  # type: ignore[misc]
                actions=[MessageCapItem.sent.add(-1), MessageCapItem.messages.delete({message_id})],
                condition=MessageCapItem.messages.contains(message_id),
            )
        )


def _counted(item: MessageCapItem, message_id: str) -> bool:
    try:
        stored = MessageCapItem.get(item.pk, item.sk, consistent_read=True)
    except MessageCapItem.DoesNotExist:
        return False
    return message_id in (stored.messages or set())

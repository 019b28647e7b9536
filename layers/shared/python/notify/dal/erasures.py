"""The data side of erasure (P1): find every item of one patient and remove it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from ..domain.message_ids import MessageId
from ..domain.model import MessageKind
from . import keys
from .appointments import _marker, _refused
from .callbacks import notices_naming
from .conversions import settings_from_json
from .errors import condition_held
from .models import (
    AppointmentItem,
    BlockedNumberItem,
    ConsentItem,
    ErasedItem,
    ErasureItem,
    EventItem,
    HeldChangesItem,
    LedgerContentItem,
    LedgerItem,
    LinkItem,
    NotifyItem,
    PatientItem,
    PracticeItem,
    RecallItem,
    SlotItem,
)
from .read_cache import transaction

ERASED = "erased"


def request(
    practice_id: str,
    patient_id: str,
    digest: str,
    stamp: str,
    request_id: str,
    now: datetime,
    event: tuple[str, str],
) -> None:
    """The tombstone and the erasure request, with the event marker, in one transaction."""
    tombstone = ErasedItem(*ErasedItem.key(practice_id, digest), stamp=stamp, erased_at=now)
    order = ErasureItem(
        *ErasureItem.key(practice_id, request_id), practice_id=practice_id, patient_id=patient_id, requested_at=now
    )
    order.expires_at = now.replace(year=now.year + 1)  # never left behind for long
    try:
        with transaction() as tx:
            tx.save(_marker(practice_id, event, now), condition=EventItem.pk.does_not_exist())
            tx.save(tombstone)
            tx.save(order)
    except TransactWriteError as exc:
        _refused(exc, practice_id, event[0])
        raise


def erased_stamp(practice_id: str, digest: str) -> str | None:
    """The stamp of the patient's erasure, if they were erased."""
    try:
        return ErasedItem.get(*ErasedItem.key(practice_id, digest), consistent_read=True).stamp
    except ErasedItem.DoesNotExist:
        return None


@dataclass(frozen=True)
class Request:
    patient_id: str
    appointment_ids: tuple[str, ...]
    recall_ids: tuple[str, ...]
    group_messages: tuple[str, ...] = ()


def get_request(practice_id: str, request_id: str) -> Request | None:
    try:
        item = ErasureItem.get(*ErasureItem.key(practice_id, request_id), consistent_read=True)
    except ErasureItem.DoesNotExist:
        return None
    return Request(
        item.patient_id,
        tuple(item.appointment_ids or ()),
        tuple(item.recall_ids or ()),
        tuple(item.group_messages or ()),
    )


def remember(
    practice_id: str, request_id: str, appointments: set[str], recalls: set[str], group_messages: set[str]
) -> None:
    """What the first pass found, so the second can clean the same subjects again."""
    ErasureItem(*ErasureItem.key(practice_id, request_id)).update(
        actions=[
            ErasureItem.appointment_ids.set(sorted(appointments)),
            ErasureItem.recall_ids.set(sorted(recalls)),
            ErasureItem.group_messages.set(sorted(group_messages)),
        ]
    )


def pass_done(practice_id: str, request_id: str) -> int:
    item = ErasureItem(*ErasureItem.key(practice_id, request_id))
    item.update(actions=[ErasureItem.passes_done.add(1)])
    return int(item.passes_done)


def forget(practice_id: str, request_id: str) -> None:
    ErasureItem(*ErasureItem.key(practice_id, request_id)).delete()


@dataclass(frozen=True)
class Contact:
    phone: str
    push_endpoint: str


def patient_contact(practice_id: str, patient_id: str) -> Contact | None:
    try:
        item = PatientItem.get(*PatientItem.key(practice_id, patient_id), consistent_read=True)
    except PatientItem.DoesNotExist:
        return None
    return Contact(item.phone, item.push_endpoint)


def practice_country(practice_id: str) -> str:
    try:
        item = PracticeItem.get(*PracticeItem.key(practice_id))
    except PracticeItem.DoesNotExist:
        return "GB"
    return settings_from_json(dict(item.settings or {})).country


def other_phones(practice_id: str, patient_id: str) -> list[str]:
    return [
        i.phone
        for i in PatientItem.query(keys.practice(practice_id), PatientItem.sk.startswith(keys.Prefix.PATIENT))
        if isinstance(i, PatientItem) and i.patient_id != patient_id and i.phone
    ]


def appointments_of(practice_id: str, patient_id: str) -> set[str]:
    return {
        i.appointment_id
        for i in NotifyItem.patient_index.query(keys.patient_items(practice_id, patient_id))
        if isinstance(i, AppointmentItem)
    }


def recalls_of(practice_id: str, patient_id: str) -> set[str]:
    prefix = f"{keys.Prefix.RECALL}{patient_id}."
    return {
        i.sk.removeprefix(keys.Prefix.RECALL)
        for i in RecallItem.query(keys.practice(practice_id), RecallItem.sk.startswith(prefix))
    }


@dataclass(frozen=True)
class LedgerMessage:
    message_id: str
    channel: str
    covered_by: str | None  # R11: the grouped message that listed it


def ledger_messages(practice_id: str, subject_id: str) -> list[LedgerMessage]:
    return [
        LedgerMessage(i.message_id, i.channel, i.covered_by)
        for i in LedgerItem.query(keys.ledger(practice_id, subject_id))
        if isinstance(i, LedgerItem)
    ]


# What a grouped message's kept text becomes when it listed an erased patient.
GROUP_TEXT_ERASED = "(text removed: it listed a patient since erased)"


def redact_group_text(practice_id: str, message_id: str) -> int:
    """Replace the kept text of a grouped message (R11) of another patient that listed an
    erased patient's appointment; 1 when there was one."""
    try:
        subject = MessageId.parse(message_id).subject_id
    except ValueError:
        return 0
    item = LedgerContentItem(*LedgerContentItem.key(practice_id, subject, message_id, "sms"))
    return int(
        condition_held(
            lambda: item.update(
                actions=[LedgerContentItem.text.set(GROUP_TEXT_ERASED)], condition=LedgerContentItem.pk.exists()
            )
        )
    )


def delete_ledger(practice_id: str, subject_id: str) -> int:
    """Every row and content item of one subject's ledger."""
    return delete_items(NotifyItem.query(keys.ledger(practice_id, subject_id)))


def delete_ledger_rows_of(practice_id: str, subject_id: str, patient_id: str) -> int:
    """Rows of a shared ledger partition (practice-level events) naming the patient."""
    return delete_items(
        i
        for i in NotifyItem.query(keys.ledger(practice_id, subject_id))
        if getattr(i, "patient_id", None) == patient_id
    )


def link_generations(practice_id: str, appointment_ids: set[str]) -> list[tuple[str, int]]:
    out = []
    for appointment_id in appointment_ids:
        try:
            item = AppointmentItem.get(*AppointmentItem.key(practice_id, appointment_id))
        except AppointmentItem.DoesNotExist:
            continue
        out += [(appointment_id, g) for g in range(1, int(item.link_generation or 1) + 1)]
    return out


def delete_link(digest: str) -> int:
    return delete_items([LinkItem(*LinkItem.key(digest))])


def anonymise_offers(practice_id: str, appointment_ids: set[str]) -> int:
    """Freed slots offered to (or taken by) the patient's appointments keep their counts,
    not the appointments' ids."""
    changed = 0
    slots = {s for a in appointment_ids for s in _offers_made_to(practice_id, a)}
    for slot_id in slots:
        try:
            item = SlotItem.get(*SlotItem.key(practice_id, slot_id))
        except SlotItem.DoesNotExist:
            continue
        offered = [ERASED if a in appointment_ids else a for a in item.offered_to or []]
        winner = ERASED if item.winner_appointment_id in appointment_ids else item.winner_appointment_id
        if offered != list(item.offered_to or []) or winner != item.winner_appointment_id:
            item.update(actions=[SlotItem.offered_to.set(offered), SlotItem.winner_appointment_id.set(winner)])
            changed += 1
    return changed


def _offers_made_to(practice_id: str, appointment_id: str) -> set[str]:
    """The slots offered to an appointment, read off its ledger (the offers' ids)."""
    slots = set()
    for item in LedgerItem.query(keys.ledger(practice_id, appointment_id)):
        if isinstance(item, LedgerItem) and item.kind == MessageKind.SLOT_OFFER.value:
            slot_id = MessageId.parse(item.message_id).slot_id
            if slot_id:
                slots.add(slot_id)
    return slots


def delete_notices_naming(practice_id: str, patient_id: str, appointment_ids: set[str]) -> int:
    """Notices to the practice (and callbacks not yet sent) that name the patient."""
    return delete_items(notices_naming(practice_id, patient_id, appointment_ids))


def delete_number_entries(practice_id: str, number: str) -> int:
    """Entries about the patient's number that concern only them: the K4 blocked list and
    the T2 consent record (with the keywords' texts). Their T1 conversations are patient
    items (gsi2) and go with them."""
    return delete_items(
        [
            BlockedNumberItem(*BlockedNumberItem.key(practice_id, number)),
            ConsentItem(*ConsentItem.key(practice_id, number)),
        ]
    )


def delete_appointments(practice_id: str, appointment_ids: set[str]) -> int:
    return delete_items(
        [AppointmentItem(*AppointmentItem.key(practice_id, a)) for a in appointment_ids]
        + [HeldChangesItem(*HeldChangesItem.key(practice_id, a)) for a in appointment_ids]
    )


def delete_recalls(practice_id: str, recall_ids: set[str]) -> int:
    return delete_items([RecallItem(*RecallItem.key(practice_id, r)) for r in recall_ids])


def delete_patient_items(practice_id: str, patient_id: str) -> int:
    """Whatever else the patient index still lists, their message counters (R11) and the
    patient record."""
    leftovers = list(NotifyItem.patient_index.query(keys.patient_items(practice_id, patient_id)))
    counters = list(NotifyItem.query(keys.message_cap(practice_id, patient_id, "")[0]))
    return delete_items([*leftovers, *counters, PatientItem(*PatientItem.key(practice_id, patient_id))])


def delete_items(items: object) -> int:
    """Delete each item (its key only: unconditionally); how many."""
    count = 0
    for item in items:  # type: ignore[attr-defined]
        NotifyItem(item.pk, item.sk).delete(add_version_condition=False)
        count += 1
    return count

"""The data side of a practice leaving (D19): find every item of one practice and remove it.

Most of a practice's items live in its own partition (`PRACTICE#<id>`: appointments,
patients, recalls...); each appointment and recall has a ledger partition, found through
it; the rest have a partition per practice (quotas, blocked numbers, consent, counters,
erasure requests) or an index partition (notices). Items keyed by something else expire
on their own, soon, and name nobody (docs/data-model.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..domain.model import DeliveryStatus
from . import keys
from .erasures import delete_items
from .ledger import SCHEDULE
from .models import (
    AppointmentItem,
    CallbackItem,
    LedgerItem,
    NotifyItem,
    SlotItem,
    practice_items_from,
)

# The practice partition's kinds in the order they are removed: appointments and recalls
# first (their ledgers, schedules and escalations are found through them), patients
# last (their index also lists the ledgers' rows and SMS threads).
ORDER = (
    keys.Prefix.APPOINTMENT,
    keys.Prefix.RECALL,
    keys.Prefix.HELD,
    keys.Prefix.ERASED,
    keys.Prefix.PATIENT,
)


def practice_items(practice_id: str) -> Iterator[NotifyItem]:
    """Every item of the practice's partition but its profile, in ORDER (strongly
    consistent: what a run removed is not read again by the next)."""
    for prefix in ORDER:
        yield from practice_items_from(NotifyItem, practice_id, prefix, None)


def ledger_rows(practice_id: str, subject_id: str) -> list[NotifyItem]:
    """Every row and content item of one subject's ledger."""
    return list(NotifyItem.query(keys.ledger(practice_id, subject_id), consistent_read=True))


def planned_rows(rows: list[NotifyItem]) -> list[LedgerItem]:
    """The rows of messages still planned for later (their schedules wait)."""
    return [
        r
        for r in rows
        if isinstance(r, LedgerItem) and r.channel == SCHEDULE and r.status == DeliveryStatus.PLANNED.value
    ]


def delete_slots(practice_id: str, appointment: AppointmentItem) -> int:
    """The freed slots an appointment may have left (F1: `<id>.v<n>`, the version the
    calendar showed when it was cancelled or moved: a move makes a new version, a
    cancellation keeps its own), and the rests of slots it took (D23: `<id>.v<n>.rest`)."""
    versions = range(1, int(appointment.version or 1) + 1)
    return delete_items(
        SlotItem(*SlotItem.key(practice_id, f"{appointment.appointment_id}.v{v}{rest}"))
        for v in versions
        for rest in ("", ".rest")
    )


def delete_practice_partitions(practice_id: str) -> int:
    """What the practice has outside its own partition and its subjects' ledgers: the
    patient-level ledger (answers to texts), erasure requests, SMS quotas, blocked
    numbers, consent records, counters, and the notices not yet sent."""
    partitions = [
        keys.ledger(practice_id, "patient"),
        keys.erasure(practice_id, "")[0],
        keys.quota(practice_id, "")[0],
        keys.blocked(practice_id, "")[0],
        keys.consent(practice_id, "")[0],
        keys.outcomes(practice_id, "", "")[0],
    ]
    removed = sum(delete_items(NotifyItem.query(pk, consistent_read=True)) for pk in partitions)
    return removed + delete_items(CallbackItem.patient_index.query(keys.notices(practice_id)))

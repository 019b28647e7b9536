"""The table's side of two-way SMS (T1, T2): what a reply answers and a number's consent
per practice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from . import keys
from .errors import ConflictError, condition_held
from .models import ConsentItem, ThreadItem

THREAD_LIFETIME = timedelta(days=14)  # an answer to an older message has nothing to act on


@dataclass(frozen=True)
class Thread:
    practice_id: str
    patient_id: str
    subject_ids: tuple[str, ...]
    message_id: str
    sent_at: datetime
    helped: bool


def thread_write(
    our_number: str,
    patient_number: str,
    practice_id: str,
    patient_id: str,
    subject_ids: list[str],
    message_id: str,
    now: datetime,
) -> tuple[ThreadItem, Condition]:
    """The thread item of this SMS, and the condition it is written on: no newer SMS to
    that number is the thread already (the latest wins)."""
    item = ThreadItem(
        *ThreadItem.key(our_number, patient_number),
        practice_id=practice_id,
        patient_id=patient_id,
        subject_ids=subject_ids,
        message_id=message_id,
        sent_at=now,
        helped=False,
        # Listed with the patient's items (gsi2): erasure (P1) finds it there.
        gsi2pk=keys.patient_items(practice_id, patient_id),
        gsi2sk=f"THREAD#{now.isoformat()}",
    )
    item.expires_at = now + THREAD_LIFETIME
    return item, ThreadItem.sent_at.does_not_exist() | (ThreadItem.sent_at <= now)


def find_thread(our_number: str, patient_number: str, now: datetime) -> Thread | None:
    try:
        item = ThreadItem.get(*ThreadItem.key(our_number, patient_number), consistent_read=True)
    except ThreadItem.DoesNotExist:
        return None
    if item.expires_at is not None and item.expires_at <= now:
        return None
    return Thread(
        item.practice_id,
        item.patient_id,
        tuple(item.subject_ids or ()),
        item.message_id,
        item.sent_at,
        bool(item.helped),
    )


def mark_helped(our_number: str, patient_number: str, message_id: str) -> bool:
    """The one helpful reply to this message: True for the first caller only."""
    item = ThreadItem(*ThreadItem.key(our_number, patient_number))
    return condition_held(
        lambda: item.update(
            actions=[ThreadItem.helped.set(True)],
            condition=(ThreadItem.message_id == message_id) & (ThreadItem.helped == False),  # noqa: E712
        )
    )


def sms_stopped(practice_id: str, number: str) -> bool:
    try:
        return bool(ConsentItem.get(*ConsentItem.key(practice_id, number), consistent_read=True).sms_stopped)
    except ConsentItem.DoesNotExist:
        return False


def set_consent(
    practice_id: str, number: str, stopped: bool, source: str, text: str, ref: str, now: datetime
) -> bool:
    """Record a change of consent once per `ref` (an inbound id, a link request); True when
    the state changed. Concurrent changes retry on the item's version."""
    for _ in range(4):
        try:
            item = ConsentItem.get(*ConsentItem.key(practice_id, number), consistent_read=True)
        except ConsentItem.DoesNotExist:
            item = ConsentItem(*ConsentItem.key(practice_id, number), practice_id=practice_id, number=number)
        history: list[dict[str, Any]] = list(item.history or [])
        if any(entry.get("ref") == ref for entry in history):
            return False
        changed = bool(item.sms_stopped) != stopped
        entry = {"at": now.isoformat(), "sms_stopped": stopped, "source": source, "text": text[:160], "ref": ref}
        item.sms_stopped, item.history, item.updated_at = stopped, [*history, entry][-50:], now
        if condition_held(item.save):
            return changed
    raise ConflictError(f"consent {practice_id}")


def consents(practice_id: str) -> list[dict[str, Any]]:
    return [
        {"number": i.number, "sms_stopped": bool(i.sms_stopped), "history": list(i.history or [])}
        for i in ConsentItem.query(keys.consent(practice_id, "")[0])
    ]


def consent_of(practice_id: str, number: str) -> dict[str, Any] | None:
    try:
        item = ConsentItem.get(*ConsentItem.key(practice_id, number), consistent_read=True)
    except ConsentItem.DoesNotExist:
        return None
    return {"number": item.number, "sms_stopped": bool(item.sms_stopped), "history": list(item.history or [])}

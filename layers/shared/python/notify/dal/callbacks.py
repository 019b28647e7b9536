"""Practice callbacks (B6) as items written inside the transaction of their cause."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from . import keys
from .models import CallbackItem

RETENTION = timedelta(days=7)


def callback_item(
    practice_id: str, event_type: str, payload: dict[str, Any], now: datetime, callback_id: str | None = None
) -> CallbackItem:
    """`callback_id`: given when the cause may run twice (at-least-once), so that the
    second write finds the first (saved on condition the key is new)."""
    callback_id = callback_id or uuid.uuid4().hex
    item = CallbackItem(
        *CallbackItem.key(practice_id, callback_id),
        practice_id=practice_id,
        event_type=event_type,
        created_at=now,
        payload={"id": callback_id, "type": event_type, "occurred_at": now.isoformat(), "data": payload},
    )
    item.expires_at = now + RETENTION
    item.gsi2pk = notices_key(practice_id)
    # Notices raised at the same instant (the local clock stands still while due work
    # runs) keep the order in which they were raised through the wall-clock tiebreak.
    item.gsi2sk = f"{now.isoformat()}#{time.time_ns():020d}#{callback_id}"
    return item


def notices_key(practice_id: str) -> str:
    return keys.notices(practice_id)


def still_there(item: CallbackItem) -> bool:
    """Is the callback still to be sent (not withdrawn by an erasure, P1)?"""
    try:
        CallbackItem.get(item.pk, item.sk, consistent_read=True)
    except CallbackItem.DoesNotExist:
        return False
    return True


def from_image(image: dict[str, Any]) -> CallbackItem:
    return CallbackItem.from_raw_data(image)


def notices_naming(practice_id: str, patient_id: str, appointment_ids: set[str]) -> list[CallbackItem]:
    """The practice's notices (and callbacks not yet sent) that name the patient or one of
    their appointments: what erasure removes (P1) and export shows (P5)."""

    def names(item: CallbackItem) -> bool:
        data = (item.payload or {}).get("data") or {}
        return data.get("patient_id") == patient_id or data.get("appointment_id") in appointment_ids

    return [
        i
        for i in CallbackItem.patient_index.query(notices_key(practice_id))
        if isinstance(i, CallbackItem) and names(i)
    ]


def list_callbacks(practice_id: str) -> list[dict[str, Any]]:
    """What the practice was told, newest last (the API side of B6)."""
    items = CallbackItem.patient_index.query(notices_key(practice_id))
    return [dict(i.payload) for i in items if isinstance(i, CallbackItem)]

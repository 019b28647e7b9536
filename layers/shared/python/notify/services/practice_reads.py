"""What a practice can read back (B5 ledger, B6 notices, C7 SMS usage)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..dal import appointments as appointment_store
from ..dal import ledger, quota
from ..dal import practices as practice_store
from ..dal.callbacks import list_callbacks
from ..dal.errors import NotFoundError
from ..dal.models import LedgerItem
from ..domain.model import PracticeSettings


class NotFoundForPracticeError(Exception):
    """Nothing with that id in this practice (never reveals other practices' data)."""


def _entry(item: LedgerItem) -> dict[str, Any]:
    return {
        "message_id": item.message_id,
        "appointment_id": item.appointment_id,
        "patient_id": item.patient_id,
        "kind": item.kind,
        "channel": item.channel,
        "status": item.status,
        "reason": item.reason,
        "recipient": item.recipient,
        "text": item.text,
        "segments": item.segments,
        "due_at": item.due_at.isoformat() if item.due_at else None,
        "history": [{"at": h.at.isoformat(), "status": h.status, "reason": h.reason} for h in item.history or []],
    }


def appointment_report(practice_id: str, appointment_id: str) -> dict[str, Any]:
    try:
        appointment, _ = appointment_store.get_appointment(practice_id, appointment_id)
    except NotFoundError as exc:
        raise NotFoundForPracticeError(appointment_id) from exc
    return {
        "appointment": {
            "appointment_id": appointment.appointment_id,
            "patient_id": appointment.patient_id,
            "status": appointment.status.value,
            "start": appointment.start.isoformat(),
            "end": appointment.end.isoformat(),
            "version": appointment.version,
            "calendar_id": appointment.calendar_id,
            "notifications_enabled": appointment.notifications_enabled,
        },
        "messages": [_entry(i) for i in ledger.for_appointment(practice_id, appointment_id)],
    }


def patient_messages(practice_id: str, patient_id: str) -> dict[str, Any]:
    return {"patient_id": patient_id, "messages": [_entry(i) for i in ledger.for_patient(practice_id, patient_id)]}


def practice_settings(practice_id: str) -> PracticeSettings:
    return practice_store.get_practice(practice_id).settings


def notices(practice_id: str) -> dict[str, Any]:
    return {"notices": list_callbacks(practice_id)}


def sms_usage(practice_id: str, now: datetime, month: str | None = None) -> dict[str, Any]:
    """C7: a month's SMS parts (this month by default) against the quota, with the
    warning threshold."""
    settings = practice_store.get_practice(practice_id).settings
    month = month or now.strftime("%Y-%m")
    used = quota.sms_used(practice_id, month)
    return {
        "month": month,
        "sms_used": used,
        "sms_quota": settings.sms_quota,
        "warning": used >= settings.sms_quota_warning * settings.sms_quota,
        "exhausted": used >= settings.sms_quota,
    }

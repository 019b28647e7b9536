"""What a practice can read back: the ledger (B5), notices (B6), SMS usage (C7), and
everything held about one patient (P5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..adapters.scheduler import run_its_course
from ..dal import appointments as appointment_store
from ..dal import conversations, ledger, quota
from ..dal import practices as practice_store
from ..dal import recalls as recall_store
from ..dal.callbacks import list_callbacks, notices_naming
from ..dal.conversions import settings_to_json
from ..dal.errors import NotFoundError
from ..dal.models import LedgerItem
from ..domain.contact_validation import normalise_mobile
from ..domain.message_plan import SPREAD
from ..domain.model import Appointment, DeliveryStatus, PracticeSettings
from .errors import NotFoundForPracticeError, UnknownPatientError

# B5, B8: a planned row whose schedule has had its moment, its flexible window and every
# retry (and an hour more) without a send closing it: it never reached its sender.
OVERDUE = (
    "overdue: its moment passed and it has not gone (its schedule's tries failed; the"
    " operators are alerted and can send it again, B8)"
)


def _reason(row: LedgerItem, now: datetime) -> str | None:
    planned = row.channel == ledger.SCHEDULE and row.status == DeliveryStatus.PLANNED.value
    widest = int(SPREAD.total_seconds()) // 60  # the flexible window no schedule exceeds
    if planned and row.due_at is not None and run_its_course(row.due_at, widest, now):
        return OVERDUE
    return row.reason


def _entry(entry: ledger.Entry, now: datetime) -> dict[str, Any]:
    row, content = entry.row, entry.content
    return {
        "message_id": row.message_id,
        "appointment_id": row.appointment_id,
        "patient_id": row.patient_id,
        "kind": row.kind,
        "channel": row.channel,
        "status": row.status,
        "reason": _reason(row, now),
        "segments": row.segments,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        # P2: kept for the practice's retention period after the appointment, then gone.
        "recipient": content.recipient if content else None,
        "text": content.text if content else None,
        "link": content.link if content else None,
        "history": [{"at": h.at.isoformat(), "status": h.status, "reason": h.reason} for h in row.history or []],
    }


def _appointment(appointment: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": appointment.appointment_id,
        "patient_id": appointment.patient_id,
        "status": appointment.status.value,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "version": appointment.version,
        "calendar_id": appointment.calendar_id,
        "appointment_type": appointment.appointment_type,
        "practitioner": appointment.practitioner,
        "notifications_enabled": appointment.notifications_enabled,
        # What the patient asked for and is still waiting for: an earlier time if one
        # frees up (F4), another time from the practice (D22).
        "asap_since": _iso(appointment.asap_since),
        "reschedule_requested_at": _iso(appointment.reschedule_requested_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def appointment_report(practice_id: str, appointment_id: str, now: datetime) -> dict[str, Any]:
    try:
        appointment, _ = appointment_store.get_appointment(practice_id, appointment_id)
    except NotFoundError as exc:
        raise NotFoundForPracticeError(appointment_id) from exc
    return {
        "appointment": _appointment(appointment),
        "messages": [_entry(e, now) for e in ledger.for_subject(practice_id, appointment_id, now)],
    }


def patient_messages(practice_id: str, patient_id: str, now: datetime) -> dict[str, Any]:
    messages = ledger.for_patient(practice_id, patient_id, now)
    return {"patient_id": patient_id, "messages": [_entry(e, now) for e in messages]}


def patient_export(practice_id: str, patient_id: str, now: datetime) -> dict[str, Any]:
    """P5 (GDPR art. 15): everything held about one patient, as JSON: the record, the
    appointments, every message with its states (and what it said, within the
    retention period), recalls, the number's blocked-communication entry, and the
    notices about them the practice can still read (their texts and requests: 7 days)."""
    patient = practice_store.find_patient(practice_id, patient_id)
    if patient is None:
        raise UnknownPatientError(patient_id)
    settings = practice_store.get_practice(practice_id).settings
    number = normalise_mobile(patient.phone, settings.country)
    appointments = appointment_store.appointments_of_patient(practice_id, patient_id)
    messages = ledger.for_patient(practice_id, patient_id, now)
    return {
        "exported_at": now.isoformat(),
        "patient": {
            "patient_id": patient.patient_id,
            "name": patient.name,
            "phone": patient.phone,
            "email": patient.email,
            "locale": patient.locale,
            "has_app": patient.has_app,
            "push_enabled": patient.push_enabled,
            "push_device_registered": bool(patient.device_token or patient.push_endpoint),
            "sms_enabled": patient.sms_enabled,
            "email_enabled": patient.email_enabled,
            "email_bounced": patient.email_bounced,
            "no_marketing": patient.no_marketing,
        },
        "sms_consent": conversations.consent_of(practice_id, number) if number else None,
        "appointments": [_appointment(a) for a in appointments],
        "messages": [_entry(e, now) for e in messages],
        "recalls": [
            {
                "recall_type": r.recall_type,
                "category": r.category.value,
                "due_at": r.due_at.isoformat(),
                "status": r.status.value,
                "source": r.source,
            }
            for r in recall_store.recalls_of_patient(practice_id, patient_id)
        ],
        "blocked_communications": [
            e for e in recall_store.blocked_numbers(practice_id) if number and e["number"] == number
        ],
        "notices": [
            dict(n.payload)
            for n in notices_naming(practice_id, patient_id, {a.appointment_id for a in appointments})
        ],
    }


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


def practice_configuration(practice_id: str) -> dict[str, Any]:
    """C8: what `practice.configured` set (every setting, with defaults filled in)."""
    record = practice_store.get_practice(practice_id)
    return {
        "settings": settings_to_json(record.settings),
        "calendars": record.calendars,
        "callback_url": record.callback_url,
    }


def sms_consent(practice_id: str) -> list[dict[str, Any]]:
    """T2: every number's SMS consent at this practice, with each change."""
    return conversations.consents(practice_id)

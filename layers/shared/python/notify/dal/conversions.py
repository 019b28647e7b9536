"""Domain models <-> table items, in one place."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time
from typing import Any

from ..domain.model import (
    Actor,
    Appointment,
    AppointmentSnapshot,
    AppointmentStatus,
    BookingSource,
    Patient,
    PracticeSettings,
    RecallCategory,
    RecallRule,
    ReminderPolicy,
)
from . import keys
from .models import AppointmentItem, PatientItem

_SETTING_FIELDS = {f.name for f in dataclasses.fields(PracticeSettings)}


def settings_to_json(settings: PracticeSettings) -> dict[str, Any]:
    out = dataclasses.asdict(settings)
    out["quiet_start"] = settings.quiet_start.strftime("%H:%M")
    out["quiet_end"] = settings.quiet_end.strftime("%H:%M")
    out["no_fallback_types"] = list(settings.no_fallback_types)
    out["reminder_offsets_hours"] = list(settings.reminder_offsets_hours)
    out["reminder_policy"] = settings.reminder_policy.value
    out["templates"] = dict(settings.templates)
    out["recall_rules"] = [
        {**dataclasses.asdict(r), "category": r.category.value, "appointment_types": list(r.appointment_types)}
        for r in settings.recall_rules
    ]
    return out


def settings_from_json(raw: dict[str, Any], overrides: dict[str, Any] | None = None) -> PracticeSettings:
    """Build settings from stored JSON; `overrides` are a calendar's own values (C8)."""
    merged = {k: v for k, v in {**raw, **(overrides or {})}.items() if k in _SETTING_FIELDS}
    for key in ("quiet_start", "quiet_end"):
        if isinstance(merged.get(key), str):
            merged[key] = time.fromisoformat(merged[key])
    if "no_fallback_types" in merged:
        merged["no_fallback_types"] = tuple(merged["no_fallback_types"])
    if "reminder_offsets_hours" in merged:
        merged["reminder_offsets_hours"] = tuple(int(h) for h in merged["reminder_offsets_hours"])
    if isinstance(merged.get("templates"), dict):
        merged["templates"] = tuple(sorted(merged["templates"].items()))
    if "recall_rules" in merged:
        merged["recall_rules"] = tuple(
            RecallRule(
                recall_type=r["recall_type"],
                interval_days=int(r["interval_days"]),
                appointment_types=tuple(r.get("appointment_types", ())),
                category=RecallCategory(r.get("category", "health")),
            )
            for r in merged["recall_rules"]
        )
    if "reminder_policy" in merged:
        merged["reminder_policy"] = ReminderPolicy(merged["reminder_policy"])
    return PracticeSettings(**merged)


def appointment_from_item(item: AppointmentItem) -> Appointment:
    return Appointment(
        practice_id=item.practice_id,
        appointment_id=item.appointment_id,
        patient_id=item.patient_id,
        start=item.start,
        end=item.end,
        booked_at=item.booked_at,
        calendar_id=item.calendar_id,
        appointment_type=item.appointment_type,
        practitioner=item.practitioner,
        source=BookingSource(item.source),
        status=AppointmentStatus(item.status),
        version=int(item.version),
        notifications_enabled=item.notifications_enabled,
        cancelled_by=Actor(item.cancelled_by) if item.cancelled_by else None,
        link_generation=int(item.link_generation or 1),
        recall_id=item.recall_id or "",
        asap_since=item.asap_since,
        reschedule_requested_at=item.reschedule_requested_at,
        stamps=tuple(sorted((item.stamps or {}).items())),
        changed_at=item.changed_at,
        moved_keeping_slot=bool(item.moved_keeping_slot),
        cancelled_keeping_slot=bool(item.cancelled_keeping_slot),
        took_slot_until=item.took_slot_until,
        announced=snapshot_from_json(item.announced),
    )


def snapshot_to_json(snapshot: AppointmentSnapshot) -> dict[str, Any]:
    return {
        "version": snapshot.version,
        "status": snapshot.status.value,
        "start": snapshot.start.isoformat(),
        "end": snapshot.end.isoformat(),
        "notifications_enabled": snapshot.notifications_enabled,
    }


def snapshot_from_json(raw: dict[str, Any] | None) -> AppointmentSnapshot | None:
    if not raw:
        return None
    return AppointmentSnapshot(
        int(raw["version"]),
        AppointmentStatus(raw["status"]),
        datetime.fromisoformat(raw["start"]),
        datetime.fromisoformat(raw["end"]),
        bool(raw.get("notifications_enabled", True)),
    )


def appointment_to_item(appointment: Appointment, revision: int | None = None) -> AppointmentItem:
    pk, sk = AppointmentItem.key(appointment.practice_id, appointment.appointment_id)
    item = AppointmentItem(
        pk,
        sk,
        practice_id=appointment.practice_id,
        appointment_id=appointment.appointment_id,
        patient_id=appointment.patient_id,
        calendar_id=appointment.calendar_id,
        appointment_type=appointment.appointment_type,
        practitioner=appointment.practitioner,
        start=appointment.start,
        end=appointment.end,
        booked_at=appointment.booked_at,
        source=appointment.source.value,
        status=appointment.status.value,
        version=appointment.version,
        notifications_enabled=appointment.notifications_enabled,
        cancelled_by=appointment.cancelled_by.value if appointment.cancelled_by else None,
        link_generation=appointment.link_generation,
        recall_id=appointment.recall_id or None,
        asap_since=appointment.asap_since,
        reschedule_requested_at=appointment.reschedule_requested_at,
        stamps=dict(appointment.stamps) or None,
        changed_at=appointment.changed_at,
        moved_keeping_slot=appointment.moved_keeping_slot or None,
        cancelled_keeping_slot=appointment.cancelled_keeping_slot or None,
        took_slot_until=appointment.took_slot_until,
        announced=snapshot_to_json(appointment.announced) if appointment.announced else None,
        gsi1pk=keys.calendar(appointment.practice_id, appointment.calendar_id),
        gsi1sk=f"{keys.moment(appointment.start)}#{appointment.appointment_id}",
        gsi2pk=keys.patient_items(appointment.practice_id, appointment.patient_id),
        gsi2sk=f"{keys.Prefix.APPOINTMENT}{keys.moment(appointment.start)}",
    )
    if revision is not None:
        item.revision = revision
    return item


def patient_from_item(item: PatientItem) -> Patient:
    return Patient(
        practice_id=item.practice_id,
        patient_id=item.patient_id,
        name=item.name,
        phone=item.phone,
        email=item.email,
        locale=item.locale,
        has_app=item.has_app,
        push_enabled=item.push_enabled,
        device_token=item.device_token,
        platform=item.platform,
        push_endpoint=item.push_endpoint,
        sms_enabled=item.sms_enabled,
        email_enabled=item.email_enabled,
        attended_platform_booking=item.attended_platform_booking,
        no_marketing=item.no_marketing,
        email_bounced=bool(item.email_bounced),
    )


def appointment_from_image(image: dict[str, Any] | None) -> Appointment | None:
    """A DynamoDB stream image (AttributeValue JSON) as a domain appointment."""
    if not image:
        return None
    item = AppointmentItem.from_raw_data(image)
    return appointment_from_item(item)

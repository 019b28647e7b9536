"""Applying a practice's webhook event to our data (the webhook's one call).

Each event is applied atomically together with its `event_id` marker, so a retried
webhook changes nothing the second time (B4) and a failure leaves nothing half-written.
Events may arrive in any order (B9): per appointment and patient the latest real-world
change wins, a change to an appointment not created yet is held for it, and a change
older than what is stored is acknowledged as stale, recorded and otherwise ignored.
The comparison and the write are one conditional write (the item's revision), so two
deliveries racing each other still end with the newest change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ..adapters.link_keys import LinkKeys
from ..dal import appointments as appointment_store
from ..dal import erasures, keys, ledger, read_cache
from ..dal import practices as practice_store
from ..dal.errors import ConflictError, DuplicateEventError, NotFoundError
from ..dal.recalls import recall_item
from ..domain.appointment_changes import (
    AsapChange,
    Change,
    Held,
    NotificationsChange,
    StatusChange,
    TimeChange,
    apply_changes,
    reconcile,
)
from ..domain.contact_validation import normalise_mobile
from ..domain.event_order import ChangeStamp
from ..domain.model import Appointment, AppointmentStatus, BookingSource
from ..domain.patient_link import token_digest
from ..events import (
    AppointmentAsap,
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentCreated,
    AppointmentNoShow,
    AppointmentNotifications,
    AppointmentRescheduled,
    PatientErased,
    PatientUpserted,
    PracticeConfigured,
    RecallDue,
)
from ..observability import logger
from ..practice_settings import SettingsProblem, validate_configuration
from . import erasure, outcomes, recalls
from .errors import EventRejectedError, InvalidSettingsError, UnsupportedEventError

MAX_ATTEMPTS = 4
STALE_REASON = "older than the change already applied (B9): no effect"


class IntakeStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event_id was applied before
    STALE = "stale"  # older than what the appointment or patient already reflects
    HELD = "held"  # the appointment is not created yet: kept and folded in when it is


@dataclass(frozen=True)
class IntakeResult:
    status: IntakeStatus
    event_id: str


def stamp_of(event: object) -> ChangeStamp:
    return ChangeStamp(event.occurred_at, event.sequence or 0)  # type: ignore[attr-defined]


def apply_event(practice_id: str, event: object, now: datetime, links: LinkKeys) -> IntakeResult:
    """Apply one validated webhook event; raise EventRejectedError when it cannot apply."""
    event_id: str = event.event_id  # type: ignore[attr-defined]
    try:
        if isinstance(event, AppointmentCreated):
            status = _create(practice_id, event, now, links)
        elif isinstance(event, PatientUpserted):
            status = _upsert_patient(practice_id, event, now)
        elif isinstance(event, PatientErased):
            status = IntakeStatus(
                erasure.request_erasure(
                    practice_id, event.data.patient_id, stamp_of(event), now, (event.event_id, event.type)
                )
            )
        elif isinstance(event, PracticeConfigured):
            status = _configure(practice_id, event, now)
        elif isinstance(event, RecallDue):
            recall = recalls.due_from_pms(practice_id, event.data, now)
            appointment_store.record_event(
                practice_id,
                event.event_id,
                event.type,
                now,
                recall_item(recall, now, recalls.recall_token_digest(links, recall)),
            )
            status = IntakeStatus.APPLIED
        else:
            status = _change(practice_id, event, now)
    except DuplicateEventError:
        logger.info("duplicate webhook event", event_id=event_id)
        return IntakeResult(IntakeStatus.DUPLICATE, event_id)
    unknown = event.unknown_fields()  # type: ignore[attr-defined]
    if unknown:  # names only: values may be personal data
        logger.info("webhook event fields ignored", event_type=event.type, fields=unknown)  # type: ignore[attr-defined]
    logger.info("webhook event taken", event_id=event_id, outcome=status.value, event_type=event.type)  # type: ignore[attr-defined]
    return IntakeResult(status, event_id)


def changes_of(event: object) -> tuple[Change, ...]:
    """What an appointment event changes (B9 aspects)."""
    data = event.data  # type: ignore[attr-defined]
    if isinstance(event, AppointmentCreated):
        return (
            TimeChange(data.start, data.end),
            StatusChange(AppointmentStatus.BOOKED),
            NotificationsChange(data.notifications_enabled),
        )
    if isinstance(event, AppointmentRescheduled):
        return (TimeChange(data.start, data.end, data.release_slot),)
    if isinstance(event, AppointmentCancelled):
        return (StatusChange(AppointmentStatus.CANCELLED, data.actor, data.release_slot),)
    if isinstance(event, AppointmentAttended):
        return (StatusChange(AppointmentStatus.ATTENDED),)
    if isinstance(event, AppointmentNoShow):
        return (StatusChange(AppointmentStatus.NO_SHOW),)
    if isinstance(event, AppointmentNotifications):
        return (NotificationsChange(data.enabled),)
    if isinstance(event, AppointmentAsap):
        return (AsapChange(event.occurred_at if data.asap else None),)
    raise UnsupportedEventError("type", "unsupported event type")


def _create(practice_id: str, event: AppointmentCreated, now: datetime, links: LinkKeys) -> IntakeStatus:
    data = event.data
    stamp = stamp_of(event)
    for attempt in range(MAX_ATTEMPTS):
        # Optimistic: changes are seldom held for an appointment not created yet (B9), so
        # the first try writes as if none were; the transaction checks that, and a refusal
        # reads them and tries again (one request fewer on the common path).
        held, held_revision = Held(), None
        if attempt:
            held, held_revision = appointment_store.get_held(practice_id, data.appointment_id)
        blank = Appointment(
            practice_id=practice_id,
            appointment_id=data.appointment_id,
            patient_id=data.patient_id,
            start=data.start,
            end=data.end,
            booked_at=min(event.occurred_at, now),
            calendar_id=data.calendar_id,
            appointment_type=data.appointment_type,
            practitioner=data.practitioner,
            source=data.source,
            changed_at=now,
            recall_id=recalls.resolve_token(practice_id, data.patient_id, data.recall_token, now),
        )
        created = apply_changes(blank, changes_of(event), stamp, now).appointment
        appointment = reconcile(replace(created, version=1), held, now)
        try:
            appointment_store.write_appointment(
                appointment,
                None,
                now,
                (event.event_id, event.type),
                held_revision=held_revision,
                link_digest=token_digest(
                    links.appointment_token(practice_id, appointment.appointment_id, appointment.link_generation)
                ),
            )
        except ConflictError:
            if _exists(practice_id, data.appointment_id):
                raise EventRejectedError("data.appointment_id", "appointment already exists") from None
            continue  # changes were held meanwhile: fold them in
        _count_outcome(appointment, now, booked=1)
        return IntakeStatus.APPLIED
    raise ConflictError(data.appointment_id)


def _count_outcome(appointment: Appointment, now: datetime, **increments: int) -> None:
    """A1: counted after the event's write won (its marker is in the same transaction)."""
    settings = practice_store.get_practice(appointment.practice_id).settings_for(appointment.calendar_id)
    outcomes.record(appointment.practice_id, appointment.calendar_id, settings.timezone, now, **increments)


def _exists(practice_id: str, appointment_id: str) -> bool:
    return appointment_store.find_appointment(practice_id, appointment_id) is not None


def _change(practice_id: str, event: object, now: datetime) -> IntakeStatus:
    appointment_id: str = event.data.appointment_id  # type: ignore[attr-defined]
    event_key = (event.event_id, event.type)  # type: ignore[attr-defined]
    changes, stamp = changes_of(event), stamp_of(event)
    for _ in range(MAX_ATTEMPTS):
        try:
            current, revision = appointment_store.get_appointment(practice_id, appointment_id)
        except NotFoundError:
            held, held_revision = appointment_store.get_held(practice_id, appointment_id)
            held, _ = held.add(changes, stamp)
            try:
                appointment_store.hold(practice_id, appointment_id, held, held_revision, now, event_key)
            except ConflictError:
                continue  # created (or more held) meanwhile
            return IntakeStatus.HELD
        outcome = apply_changes(current, changes, stamp, now)
        if outcome.stale:
            appointment_store.record_event(
                practice_id,
                *event_key,
                now,
                ledger.event_row(practice_id, appointment_id, current.patient_id, event_key, STALE_REASON, now),
            )
            return IntakeStatus.STALE
        attended_in_app = isinstance(event, AppointmentAttended) and current.source is not BookingSource.PRACTICE
        try:
            appointment_store.write_appointment(
                outcome.appointment,
                revision,
                now,
                event_key,
                patient_update=(
                    practice_store.attended_platform_booking(practice_id, current.patient_id)
                    if attended_in_app
                    else None
                ),
            )
        except ConflictError:
            continue  # changed meanwhile: compare again with what is there now
        became = outcome.appointment.status
        if became is not current.status and became in (AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW):
            _count_outcome(current, now, **{"attended" if became is AppointmentStatus.ATTENDED else "no_shows": 1})
        return IntakeStatus.APPLIED
    raise ConflictError(appointment_id)


def _configure(practice_id: str, event: PracticeConfigured, now: datetime) -> IntakeStatus:
    """C8 over the API: the whole configuration, validated (P6), latest change wins (B9)."""
    try:
        settings, calendars, callback = validate_configuration(
            event.data.model_dump(include={"settings", "calendars", "callback_url"})
        )
    except SettingsProblem as problem:
        raise InvalidSettingsError(f"data.{problem.field}", problem.message) from problem
    stamp = stamp_of(event).key
    for _ in range(MAX_ATTEMPTS):
        previous = practice_store.configuration_stamp(practice_id)
        if previous and previous > stamp:
            appointment_store.record_event(practice_id, event.event_id, event.type, now)
            return IntakeStatus.STALE
        item = practice_store.practice_item(practice_id, settings, callback, calendars, stamp)
        unchanged = practice_store.configuration_unchanged_since(previous)
        try:
            appointment_store.record_event(practice_id, event.event_id, event.type, now, item, condition=unchanged)
        except ConflictError:
            continue  # configured meanwhile: compare with that
        return IntakeStatus.APPLIED
    raise ConflictError(practice_id)


def _upsert_patient(practice_id: str, event: PatientUpserted, now: datetime, attempt: int = 0) -> IntakeStatus:
    data = event.data
    stamp = stamp_of(event).key
    digest = keys.patient_digest(practice_id, data.patient_id)
    read_cache.prefetch(keys.patient(practice_id, data.patient_id), keys.erased(practice_id, digest))
    item = practice_store.patient_item(practice_id, data.patient_id)
    erased_at = erasures.erased_stamp(practice_id, digest)
    if erased_at and erased_at > stamp:
        # Older than the patient's erasure (P1): acknowledged, and nothing about them kept.
        appointment_store.record_event(practice_id, event.event_id, event.type, now)
        return IntakeStatus.STALE
    if item.stamp and item.stamp > stamp:
        appointment_store.record_event(
            practice_id,
            event.event_id,
            event.type,
            now,
            ledger.event_row(
                practice_id, "patient", data.patient_id, (event.event_id, event.type), STALE_REASON, now
            ),
        )
        return IntakeStatus.STALE
    as_read = practice_store.service_owned(item)
    token_changed = data.device_token != item.device_token
    if data.email != item.email:
        item.email_bounced = False  # a new address gets its own chance (C5)
    for field in (
        "name",
        "phone",
        "email",
        "locale",
        "has_app",
        "push_enabled",
        "device_token",
        "platform",
        "sms_enabled",
        "email_enabled",
        "no_marketing",
    ):
        setattr(item, field, getattr(data, field))
    if token_changed:
        item.push_endpoint = ""
    country = practice_store.get_practice(practice_id).settings.country
    practice_store.index_number(item, normalise_mobile(data.phone, country))  # R11: a family
    previous, item.stamp = item.stamp, stamp
    try:
        appointment_store.record_event(
            practice_id,
            event.event_id,
            event.type,
            now,
            item,
            condition=practice_store.unchanged_since(previous, as_read),
        )
    except ConflictError:
        if attempt + 1 >= MAX_ATTEMPTS:
            raise
        return _upsert_patient(practice_id, event, now, attempt + 1)  # raced: compare again
    return IntakeStatus.APPLIED

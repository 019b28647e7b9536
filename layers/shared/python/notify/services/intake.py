"""Applying a practice's webhook event to our data (the webhook's one call).

Each event is applied atomically together with its `event_id` marker, so a retried
webhook changes nothing the second time (B4) and a failure leaves nothing half-written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..contracts import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentCreated,
    AppointmentNotifications,
    AppointmentRescheduled,
    PatientUpserted,
    RecallDue,
)
from ..dal import appointments as appointment_store
from ..dal import practices as practice_store
from ..dal.errors import ConflictError, DuplicateEventError, NotFoundError
from ..dal.recalls import recall_item
from ..domain.model import Appointment, AppointmentStatus, BookingSource
from ..domain.patient_link import new_token
from ..observability import logger
from . import recalls

MAX_ATTEMPTS = 3


class EventRejectedError(Exception):
    """The event cannot apply to the current state; `field` names what is wrong."""

    def __init__(self, field: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class IntakeResult:
    status: str  # "applied" | "duplicate"
    event_id: str


def apply_event(practice_id: str, event: object, now: datetime) -> IntakeResult:
    """Apply one validated webhook event; raise EventRejectedError when it cannot apply."""
    event_id: str = event.event_id  # type: ignore[attr-defined]
    try:
        if isinstance(event, AppointmentCreated):
            _create(practice_id, event, now)
        elif isinstance(event, PatientUpserted):
            _upsert_patient(practice_id, event, now)
        elif isinstance(event, RecallDue):
            try:
                recall = recalls.due_from_pms(practice_id, event.data, now)
            except recalls.RecallsOffError as exc:
                raise EventRejectedError("type", "recalls are not enabled for this practice",
                                         409) from exc
            appointment_store.record_event(practice_id, event.event_id, event.type, now,
                                           recall_item(recall, now))
        else:
            _change_with_retry(practice_id, event, now)
    except DuplicateEventError:
        logger.info("duplicate webhook event", event_id=event_id)
        return IntakeResult("duplicate", event_id)
    logger.info("webhook event applied", event_id=event_id,
                event_type=event.type)  # type: ignore[attr-defined]
    return IntakeResult("applied", event_id)


def _create(practice_id: str, event: AppointmentCreated, now: datetime) -> None:
    data = event.data
    appointment = Appointment(
        practice_id=practice_id, appointment_id=data.appointment_id,
        patient_id=data.patient_id, start=data.start, end=data.end,
        booked_at=min(event.occurred_at, now), calendar_id=data.calendar_id,
        appointment_type=data.appointment_type, practitioner=data.practitioner,
        source=data.source, notifications_enabled=data.notifications_enabled,
        link_token=new_token(),
        recall_id=recalls.resolve_token(practice_id, data.patient_id, data.recall_token),
    )
    try:
        appointment_store.write_appointment(appointment, None, now,
                                            (event.event_id, event.type))
    except ConflictError as exc:
        raise EventRejectedError("data.appointment_id", "appointment already exists") from exc


def _change_with_retry(practice_id: str, event: object, now: datetime) -> None:
    appointment_id: str = event.data.appointment_id  # type: ignore[attr-defined]
    for attempt in range(MAX_ATTEMPTS):
        try:
            current, revision = appointment_store.get_appointment(practice_id, appointment_id)
        except NotFoundError as exc:
            raise EventRejectedError("data.appointment_id", "unknown appointment", 404) from exc
        changed = changed_appointment(current, event)
        try:
            appointment_store.write_appointment(
                changed, revision, now,
                (event.event_id, event.type))  # type: ignore[attr-defined]
        except ConflictError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            continue
        if isinstance(event, AppointmentAttended) and current.source is not BookingSource.PRACTICE:
            practice_store.mark_attended_platform_booking(practice_id, current.patient_id)
        return


def changed_appointment(current: Appointment, event: object) -> Appointment:
    """The appointment after `event`, or EventRejectedError for an impossible change."""
    if isinstance(event, AppointmentRescheduled):
        if not current.is_active:
            raise EventRejectedError("data.appointment_id", f"appointment is {current.status}")
        if (event.data.start, event.data.end) == (current.start, current.end):
            return current
        return replace(current, start=event.data.start, end=event.data.end,
                       version=current.version + 1, status=AppointmentStatus.BOOKED)
    if isinstance(event, AppointmentCancelled):
        if current.status is AppointmentStatus.CANCELLED:
            return current
        if current.status is AppointmentStatus.ATTENDED:
            raise EventRejectedError("data.appointment_id", "appointment was attended")
        return replace(current, status=AppointmentStatus.CANCELLED,
                       cancelled_by=event.data.actor)
    if isinstance(event, AppointmentAttended):
        if current.status is AppointmentStatus.CANCELLED:
            raise EventRejectedError("data.appointment_id", "appointment is cancelled")
        return replace(current, status=AppointmentStatus.ATTENDED)
    if isinstance(event, AppointmentNotifications):
        return replace(current, notifications_enabled=event.data.enabled)
    raise EventRejectedError("type", "unsupported event type", 422)


def _upsert_patient(practice_id: str, event: PatientUpserted, now: datetime) -> None:
    data = event.data
    item = practice_store.patient_item(practice_id, data.patient_id)
    token_changed = data.device_token != item.device_token
    if data.email != item.email:
        item.email_bounced = False  # a new address gets its own chance (C5)
    for field in ("name", "phone", "email", "locale", "has_app", "push_enabled",
                  "device_token", "platform", "sms_enabled", "email_enabled", "no_marketing"):
        setattr(item, field, getattr(data, field))
    if token_changed:
        item.push_endpoint = ""
    appointment_store.record_event(practice_id, event.event_id, event.type, now, item)

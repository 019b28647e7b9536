"""What a patient can do from a link (R4): see the appointment, confirm, cancel, reschedule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ..dal import appointments as appointment_store
from ..dal import conversations, keys, read_cache
from ..dal import practices as practice_store
from ..dal.callbacks import callback_item
from ..dal.errors import ConflictError, ExpiredLinkError, NotFoundError, PracticeClosedError
from ..dal.models import NotifyItem
from ..domain.appointment_changes import Change, RescheduleRequestChange, StatusChange, apply_changes
from ..domain.contact_validation import normalise_mobile
from ..domain.event_order import ChangeStamp
from ..domain.model import Actor, Appointment, AppointmentStatus, PracticeSettings
from ..domain.patient_link import token_in
from ..observability import logger, metrics
from ..rendering import local_times, pick_locale
from . import outcomes
from .errors import ActionNotAllowedError, LinkNotFoundError


class PatientAction(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"


@dataclass(frozen=True)
class AppointmentView:
    token: str
    appointment: Appointment
    settings: PracticeSettings
    locale: str
    when: str
    now: datetime

    @property
    def can_act(self) -> bool:
        return self.appointment.is_active and self.now < self.appointment.start

    @property
    def can_confirm(self) -> bool:
        """Booked, or asking for another time (D22: confirming keeps the booked time)."""
        return self.can_act and (
            self.appointment.status is AppointmentStatus.BOOKED or self.asking_for_another_time
        )

    @property
    def asking_for_another_time(self) -> bool:
        return self.appointment.reschedule_requested_at is not None

    @property
    def can_cancel(self) -> bool:
        """Until the practice's late-cancellation window (never once the visit started)."""
        cutoff = self.appointment.start - timedelta(minutes=self.settings.cancel_cutoff_minutes)
        return self.can_act and self.now < cutoff


def clean_token(raw: str) -> str:
    """LinkNotFoundError for what cannot be a link's token (see token_in)."""
    token = token_in(raw)
    if token is None:
        raise LinkNotFoundError()
    return token


def open_link(raw_token: str, now: datetime, slot_id: str | None = None) -> AppointmentView:
    """The appointment behind a link (and, read with it, the freed slot `slot_id` its
    offer page shows)."""
    token = clean_token(raw_token)
    try:
        practice_id, appointment_id, patient_id = appointment_store.resolve_link(token, now)
        read_cache.prefetch(  # what the page shows, in one request
            keys.appointment(practice_id, appointment_id),
            keys.profile(practice_id),
            keys.patient(practice_id, patient_id),
            keys.slot(practice_id, slot_id) if slot_id else None,
        )
        appointment, _ = appointment_store.get_appointment(practice_id, appointment_id)
    except ExpiredLinkError as exc:
        raise LinkNotFoundError(token, exc.practice_id) from exc
    except NotFoundError as exc:
        raise LinkNotFoundError(token) from exc
    if appointment.patient_id != patient_id:
        raise LinkNotFoundError(token)
    return view_for(token, appointment, now)


def view_for(token: str, appointment: Appointment, now: datetime) -> AppointmentView:
    """What a link's page shows of `appointment` (as read, or as just written)."""
    try:
        practice = practice_store.get_practice(appointment.practice_id)
    except PracticeClosedError as exc:  # the practice left (D19): its links lead nowhere
        raise LinkNotFoundError(token) from exc
    settings = practice.settings_for(appointment.calendar_id)
    patient = practice_store.find_patient(appointment.practice_id, appointment.patient_id)
    locale = pick_locale(patient.locale if patient else None, settings.locale)
    when = local_times(appointment.start, settings.timezone, locale)["when"]
    return AppointmentView(token, appointment, settings, locale, when, now)


def view_of(practice_id: str, appointment_id: str, token: str, now: datetime) -> AppointmentView:
    """The appointment as its link page would show it (an SMS answer has no link to open);
    NotFoundError when it is gone."""
    read_cache.prefetch(keys.appointment(practice_id, appointment_id), keys.profile(practice_id))
    appointment, _ = appointment_store.get_appointment(practice_id, appointment_id)
    return view_for(token, appointment, now)


def act_on(view: AppointmentView, action: PatientAction, now: datetime, via: str) -> AppointmentView:
    """The action on the appointment of `view`, wherever the patient took it (the link
    page, an SMS answer, the day's group page): the same checks, notice, counters and
    planning; repeating a done action is harmless (idempotent)."""
    appointment = view.appointment
    target = AppointmentStatus.CONFIRMED if action is PatientAction.CONFIRM else AppointmentStatus.CANCELLED
    # D22: the patient's own answer ends their request for another time, and says so.
    withdrawing = view.asking_for_another_time
    if appointment.status is target and not withdrawing:
        return view
    allowed = view.can_cancel if action is PatientAction.CANCEL else view.can_confirm or view.can_act
    if not allowed:
        raise ActionNotAllowedError(f"appointment is {appointment.status.value}, starts {appointment.start}")
    # The patient's action is a real-world change now: a practice event about an earlier
    # moment no longer overrides it (B9).
    changes: tuple[Change, ...] = (
        StatusChange(target, Actor.PATIENT if target is AppointmentStatus.CANCELLED else None),
    )
    if withdrawing:
        changes += (RescheduleRequestChange(None),)
    changed = apply_changes(appointment, changes, ChangeStamp(now), now).appointment
    about = {"appointment_id": appointment.appointment_id, "patient_id": appointment.patient_id}
    for _ in range(3):
        current, revision = appointment_store.get_appointment(appointment.practice_id, appointment.appointment_id)
        if (
            current.version != appointment.version
            or not current.is_active
            or current.reschedule_requested_at != appointment.reschedule_requested_at
        ):
            raise ActionNotAllowedError("appointment changed, reload the page")
        notices: list[NotifyItem] = []
        if appointment.status is not target:
            notices.append(
                callback_item(
                    appointment.practice_id,
                    f"appointment.{target.value}",
                    {**about, "by": "patient", "via": via},
                    now,
                )
            )
        if withdrawing:  # what the request asked about, and what ended it
            start, because = appointment.start.isoformat(), target.value
            notices.append(
                callback_item(
                    appointment.practice_id,
                    "appointment.reschedule_withdrawn",
                    {**about, "start": start, "by": "patient", "via": via, "because": because},
                    now,
                )
            )
        try:
            appointment_store.write_appointment(changed, revision, now, also=notices)
            break
        except ConflictError:
            continue
    else:
        raise ActionNotAllowedError("appointment is being changed, try again")
    metrics.add_metric(name=f"PatientAction_{action.value}", unit="Count", value=1)
    if appointment.status is target:  # already confirmed: only the request ended
        logger.info("reschedule request withdrawn", appointment_id=appointment.appointment_id)
        return replace(view, appointment=changed)
    if action is PatientAction.CONFIRM:
        outcomes.confirmed(appointment.practice_id, appointment.calendar_id, view.settings.timezone, now, via)
    else:
        outcomes.record(
            appointment.practice_id, appointment.calendar_id, view.settings.timezone, now, cancelled_by_patient=1
        )
    logger.info("patient action", appointment_id=appointment.appointment_id, action=action.value)
    return replace(view, appointment=changed)


def sms_stopped(view: AppointmentView) -> bool | None:
    """T2: has the patient's number stopped SMS from this practice? None: no mobile."""
    number = _number(view)
    return None if number is None else conversations.sms_stopped(view.appointment.practice_id, number)


def set_sms(token: str, stopped: bool, now: datetime) -> AppointmentView:
    """T2 from the link page: the same record as a STOP / START text, source "link page"."""
    view = open_link(token, now)
    number = _number(view)
    if number is None:
        raise ActionNotAllowedError("no mobile number")
    conversations.set_consent(
        view.appointment.practice_id, number, stopped, "link page", "", f"link.{uuid.uuid4().hex}", now
    )
    return view


def _number(view: AppointmentView) -> str | None:
    patient = practice_store.find_patient(view.appointment.practice_id, view.appointment.patient_id)
    return normalise_mobile(patient.phone, view.settings.country) if patient and patient.phone else None

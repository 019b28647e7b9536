"""The webhook's event models (what a practice's system sends), from which the OpenAPI
document is generated. Apart from `contracts.py` so that the functions which never take
an event do not build its thirty models at start (issue 16's cold start)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .contracts import Identifier, RecallType
from .domain.model import Actor, BookingSource, RecallCategory

Token = Annotated[str, Field(min_length=16, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]


class _Strict(BaseModel):
    """Event payloads: a field we do not know is kept aside (its name logged), never
    refused, so a PMS that adds a field keeps working (forward compatible)."""

    model_config = ConfigDict(defer_build=True, extra="allow", str_max_length=2000)

    def unknown_fields(self) -> list[str]:
        names = list(self.model_extra or {})
        for value in self.__dict__.values():
            if isinstance(value, _Strict):
                names += [f"data.{n}" for n in value.unknown_fields()]
        return sorted(names)


def _check_times(start: datetime, end: datetime) -> None:
    """A booked time or a new one: it ends after it starts, in a sane year."""
    if end <= start:
        raise ValueError("end must be after start")
    if not 2000 <= start.year <= 2100:
        raise ValueError("start must be between the years 2000 and 2100")


class AppointmentData(_Strict):
    appointment_id: Identifier
    patient_id: Identifier
    start: AwareDatetime
    end: AwareDatetime
    calendar_id: Identifier = "default"
    appointment_type: str = Field(default="", max_length=120)
    practitioner: str = Field(default="", max_length=120)
    source: BookingSource = BookingSource.PRACTICE
    notifications_enabled: bool = True
    # K2: the tracking token of the recall link the patient booked from.
    recall_token: Token | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> AppointmentData:
        _check_times(self.start, self.end)
        return self


# F1: whether the time a cancellation or move leaves may be offered to other patients.
ReleaseSlot = Annotated[
    bool,
    Field(
        description="false: the time this change leaves is not free for other patients (the "
        "practitioner is away, the room is closed), so it is offered to nobody (F1)"
    ),
]


class RescheduleData(_Strict):
    appointment_id: Identifier
    start: AwareDatetime
    end: AwareDatetime
    actor: Actor = Actor.PRACTICE
    release_slot: ReleaseSlot = True

    @model_validator(mode="after")
    def _end_after_start(self) -> RescheduleData:
        _check_times(self.start, self.end)
        return self


class CancelData(_Strict):
    appointment_id: Identifier
    actor: Actor = Actor.PRACTICE
    # The practice's internal reason (e.g. "not excused"): accepted, never shown (R5).
    internal_reason: str | None = Field(default=None, max_length=200)
    release_slot: ReleaseSlot = True


class AttendedData(_Strict):
    appointment_id: Identifier


class NotificationsData(_Strict):
    appointment_id: Identifier
    enabled: bool


class AsapData(_Strict):
    appointment_id: Identifier
    # True: the patient wants an earlier time (offered freed slots first, F4); False: off.
    asap: bool


class PatientData(_Strict):
    patient_id: Identifier
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    locale: str = Field(default="", max_length=10)
    has_app: bool = False
    push_enabled: bool = False
    device_token: str = Field(default="", max_length=400)
    platform: Literal["ios", "android", ""] = ""
    sms_enabled: bool | None = None
    email_enabled: bool = True
    no_marketing: bool = False


class RecallDueData(_Strict):
    """K1: a recall record from the PMS (the practice's own recall list)."""

    patient_id: Identifier
    recall_type: RecallType
    due_at: AwareDatetime
    category: RecallCategory = RecallCategory.HEALTH

    @model_validator(mode="after")
    def _sane_date(self) -> RecallDueData:
        if not 2000 <= self.due_at.year <= 2100:
            raise ValueError("due_at must be between the years 2000 and 2100")
        return self


class ManualRecall(_Strict):
    """K4/K5: a recall sent by hand from the practice; `confirmed` answers the
    no-marketing question."""

    patient_id: Identifier
    recall_type: RecallType
    category: RecallCategory = RecallCategory.HEALTH
    confirmed: bool = False


class BlockedNumber(_Strict):
    """K4: the blocked communication list entry of one mobile number."""

    blocked_recalls: bool


class _Event(_Strict):
    event_id: Identifier
    occurred_at: AwareDatetime
    # B9: the PMS's own order of changes, when it has one; breaks ties of occurred_at.
    sequence: int | None = Field(default=None, ge=0, le=2**63 - 1)


class AppointmentCreated(_Event):
    type: Literal["appointment.created"]
    data: AppointmentData


class AppointmentRescheduled(_Event):
    type: Literal["appointment.rescheduled"]
    data: RescheduleData


class AppointmentCancelled(_Event):
    type: Literal["appointment.cancelled"]
    data: CancelData


class AppointmentAttended(_Event):
    type: Literal["appointment.attended"]
    data: AttendedData


class AppointmentNoShow(_Event):
    type: Literal["appointment.no_show"]
    data: AttendedData


class AppointmentNotifications(_Event):
    type: Literal["appointment.notifications"]
    data: NotificationsData


class AppointmentAsap(_Event):
    type: Literal["appointment.asap"]
    data: AsapData


class PatientUpserted(_Event):
    type: Literal["patient.upserted"]
    data: PatientData


class PatientErasedData(_Strict):
    patient_id: Identifier


class PatientErased(_Event):
    """P1: erase everything held about this patient (GDPR art. 17)."""

    type: Literal["patient.erased"]
    data: PatientErasedData


class RecallDue(_Event):
    type: Literal["recall.due"]
    data: RecallDueData


class PracticeConfiguredData(_Strict):
    """C8: the practice's settings, its calendars' own values and its callback URL, as a
    whole (what is not given takes its default). Checked by practice_settings (P6)."""

    settings: dict[str, Any] = Field(default_factory=dict)
    calendars: dict[Identifier, dict[str, Any]] = Field(default_factory=dict, max_length=100)
    callback_url: str | None = Field(default=None, max_length=2048)


class PracticeConfigured(_Event):
    type: Literal["practice.configured"]
    data: PracticeConfiguredData


WebhookEvent = Annotated[
    AppointmentCreated
    | AppointmentRescheduled
    | AppointmentCancelled
    | AppointmentAttended
    | AppointmentNoShow
    | AppointmentNotifications
    | AppointmentAsap
    | PatientUpserted
    | PatientErased
    | RecallDue
    | PracticeConfigured,
    Field(discriminator="type"),
]
EVENT_TYPES = frozenset(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(get_args(WebhookEvent)[0])
)

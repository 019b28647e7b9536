"""Payloads passed between functions (schedule input, async invoke, state machine input)
and the webhook's event models, from which the OpenAPI document is generated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .domain.model import Actor, BookingSource, MessageKind

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class SendRequest(BaseModel):
    """What a schedule, an async invoke or the state machine asks a sender to do."""

    model_config = ConfigDict(extra="ignore")

    practice_id: Identifier
    appointment_id: Identifier
    kind: MessageKind
    version: int = Field(ge=1)
    slot_id: str | None = Field(default=None, max_length=100)

    @property
    def message_id(self) -> str:
        base = f"{self.appointment_id}#{self.kind.value}#v{self.version}"
        return f"{base}#{self.slot_id}" if self.slot_id else base


class EscalationRequest(SendRequest):
    escalate_at: str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=2000)


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

    @model_validator(mode="after")
    def _end_after_start(self) -> AppointmentData:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not 2000 <= self.start.year <= 2100:
            raise ValueError("start must be between the years 2000 and 2100")
        return self


class RescheduleData(_Strict):
    appointment_id: Identifier
    start: AwareDatetime
    end: AwareDatetime
    actor: Actor = Actor.PRACTICE

    @model_validator(mode="after")
    def _end_after_start(self) -> RescheduleData:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not 2000 <= self.start.year <= 2100:
            raise ValueError("start must be between the years 2000 and 2100")
        return self


class CancelData(_Strict):
    appointment_id: Identifier
    actor: Actor = Actor.PRACTICE
    # The practice's internal reason (e.g. "not excused"): accepted, never shown (R5).
    internal_reason: str | None = Field(default=None, max_length=200)


class AttendedData(_Strict):
    appointment_id: Identifier


class NotificationsData(_Strict):
    appointment_id: Identifier
    enabled: bool


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


class _Event(_Strict):
    event_id: Identifier
    occurred_at: AwareDatetime


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


class AppointmentNotifications(_Event):
    type: Literal["appointment.notifications"]
    data: NotificationsData


class PatientUpserted(_Event):
    type: Literal["patient.upserted"]
    data: PatientData


WebhookEvent = Annotated[
    AppointmentCreated | AppointmentRescheduled | AppointmentCancelled | AppointmentAttended
    | AppointmentNotifications | PatientUpserted,
    Field(discriminator="type"),
]


def iso_z(moment: datetime) -> str:
    """UTC timestamp in the `...Z` form Step Functions' TimestampPath expects."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

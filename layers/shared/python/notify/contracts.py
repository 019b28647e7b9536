"""Payloads passed between functions (schedule input, async invoke, state machine input)
and the webhook's event models, from which the OpenAPI document is generated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .dal import keys
from .domain.message_ids import RECALL_SUBJECT, MessageId
from .domain.model import Actor, BookingSource, MessageKind, RecallCategory

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
RecallType = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Token = Annotated[str, Field(min_length=16, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]


class SendRequest(BaseModel):
    """What a schedule, an async invoke or the state machine asks a sender to do. Built
    with `for_appointment` / `for_recall`, sent as `payload()`, parsed back by the sender:
    the one shape of a send between functions."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    practice_id: Identifier
    appointment_id: Identifier | None = None
    # A recall (K1) instead of an appointment; `version` is then its period (YYYYMMDDhhmm).
    recall_id: str | None = Field(default=None, max_length=110, pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: MessageKind
    version: int = Field(ge=1)
    slot_id: str | None = Field(default=None, max_length=100)
    offset_hours: int | None = Field(default=None, ge=1, le=720)  # R10: which reminder
    # Fired by its one-shot schedule: closes the message's `planned` ledger row (B5).
    scheduled: bool = False
    # The appointment's patient when the send was planned: the sender reads the practice,
    # the appointment and the patient in one request (issue 16). A hint only: the
    # appointment's own patient, read with it, is who gets the message.
    patient_id: Identifier | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> SendRequest:
        if (self.appointment_id is None) == (self.recall_id is None):
            raise ValueError("exactly one of appointment_id and recall_id")
        if self.recall_id is not None and self.kind is not MessageKind.RECALL:
            raise ValueError("a recall_id goes with kind 'recall'")
        return self

    @classmethod
    def for_appointment(
        cls,
        practice_id: str,
        appointment_id: str,
        kind: MessageKind,
        version: int,
        slot_id: str | None = None,
        scheduled: bool = False,
        offset_hours: int | None = None,
        patient_id: str | None = None,
    ) -> SendRequest:
        return cls(
            practice_id=practice_id,
            appointment_id=appointment_id,
            kind=kind,
            version=version,
            slot_id=slot_id,
            scheduled=scheduled,
            offset_hours=offset_hours,
            patient_id=patient_id,
        )

    @classmethod
    def for_recall(cls, practice_id: str, recall_id: str, period: str) -> SendRequest:
        return cls(practice_id=practice_id, recall_id=recall_id, kind=MessageKind.RECALL, version=int(period))

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
            "kind": self.kind.value,
            "version": self.version,
        }

    def payload_json(self) -> str:
        return json.dumps(self.payload(), separators=(",", ":"))

    @property
    def subject_id(self) -> str:
        """What the ledger files the message under: the appointment, or the recall."""
        return self.appointment_id or f"{RECALL_SUBJECT}{self.recall_id}"

    @property
    def record_key(self) -> str:
        """Sort key of the item the escalation state machine reads before its SMS."""
        if self.appointment_id:
            return keys.appointment(self.practice_id, self.appointment_id)[1]
        return keys.recall(self.practice_id, self.recall_id or "")[1]

    @property
    def message_id(self) -> str:
        return str(MessageId(self.subject_id, self.kind, self.version, self.slot_id, self.offset_hours))


class SettleRequest(BaseModel):
    """A settle schedule fired: the appointment's change has settled (B9)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    practice_id: Identifier
    appointment_id: Identifier


class EraseRequest(BaseModel):
    """An erasure's second pass is due (P1)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    practice_id: Identifier
    request_id: Identifier


class EscalationRequest(SendRequest):
    escalate_at: str


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


def iso_z(moment: datetime) -> str:
    """UTC timestamp in the `...Z` form Step Functions' TimestampPath expects."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

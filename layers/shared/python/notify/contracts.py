"""Payloads passed between functions (schedule input, async invoke, state machine input)
and the identifier types every boundary shares. The webhook's event models are in
`events.py` (only the functions that take events load them: issue 16's cold start)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .dal import keys
from .domain.message_ids import RECALL_SUBJECT, MessageId
from .domain.model import MessageKind

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
RecallType = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


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
    # D17: the message's SMS did not leave the paced queue (C7's quota, a STOP, SMS
    # switched off, or a family's SMS that left without this appointment): its email goes
    # instead, as it would have had the SMS not gone at once (sms_sender asks).
    email_instead: bool = False
    # D20: an offer held back by quiet hours (B2: planned for the morning, or kept overnight
    # in the paced queue) goes hours after the slot was freed: the sender reads the slot's
    # calendar again, as the practice may have booked its time since.
    held: bool = False

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
        held: bool = False,
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
            held=held,
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


class FollowSettingsRequest(BaseModel):
    """C8: the next page of a practice's appointments to bring in line with its settings
    (`configuration`: a digest of the settings it follows; `after`: the last appointment's
    sort key done, None for the first page)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    practice_id: Identifier
    configuration: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")
    after: str | None = Field(default=None, max_length=200)


class LeaveRequest(BaseModel):
    """D19: the next run of a closed practice's erasure (`closed_at`: the close it follows;
    `run`: the runs before it, which names its schedule)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    practice_id: Identifier
    closed_at: datetime
    run: int = Field(default=0, ge=0)


class OfferWaveRequest(BaseModel):
    """The planner's own schedule: offer a freed slot nobody took yet to the next
    candidates (F1 waves). A firing repeated finds its wave gone and does nothing."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    practice_id: Identifier
    slot_id: str = Field(min_length=1, max_length=100)
    wave: int = Field(ge=2, le=5)


class EscalationRequest(SendRequest):
    escalate_at: str


class QueuedSms(BaseModel):
    """An SMS waiting in the paced queue for its moment (D17). Identifiers only: the text
    waits in the ledger (encrypted with the table), the number is read from the patient
    when the SMS leaves, so an erased patient's SMS never leaves and the queue holds no
    personal data."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    request: SendRequest  # the send it belongs to: checked again before it leaves
    patient_id: Identifier
    subject_ids: list[Identifier] = Field(default_factory=list, max_length=20)  # R11: a group's
    # The version of each appointment the text was written for (same order; empty on an
    # SMS queued before versions were kept): one that changed while it waited leaves the
    # group's text, the others' reminder still goes.
    subject_versions: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=20)
    # ...and each appointment's patient (same order; empty on an SMS queued before they
    # were kept): read with the rest when it leaves, so that a member whose number is no
    # longer the one the SMS goes to leaves the group's text (R11).
    subject_patients: list[Identifier] = Field(default_factory=list, max_length=20)
    # R11: the day's group it is the SMS of (its key: a digest, no capability), released
    # when the SMS does not leave, so that no member is covered by a message that never went.
    group: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    parts: int = Field(ge=1, le=20)
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$")  # the quota month its parts count in
    leaves_at: datetime  # the moment its rates gave it
    country: str = Field(pattern=r"^[A-Z]{2}$")
    escalation: bool = False  # the SMS of an unanswered message (its lane: urgent)
    # It waited out quiet hours (B2): when it shows it takes a new moment on its lanes,
    # so the night's deferred SMS do not all leave at once in the morning.
    retake: bool = False

    @model_validator(mode="after")
    def _one_version_per_subject(self) -> QueuedSms:
        if self.subject_versions and len(self.subject_versions) != len(self.subject_ids):
            raise ValueError("subject_versions: one per subject_ids entry, or none")
        if self.subject_patients and len(self.subject_patients) != len(self.subject_ids):
            raise ValueError("subject_patients: one per subject_ids entry, or none")
        return self

    def versions(self) -> dict[str, int]:
        """The version each appointment's text was written for (none known: empty)."""
        return dict(zip(self.subject_ids, self.subject_versions, strict=False))

    def body(self) -> str:
        return self.model_dump_json(exclude_none=True)


def iso_z(moment: datetime) -> str:
    """UTC timestamp in the `...Z` form Step Functions' TimestampPath expects."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Each function's environment, validated once at cold start (CDK sets exactly these)."""

from __future__ import annotations

import os
import re
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, Json, field_validator

NOT_CONFIGURED = "none"  # a deploy parameter's explicit "this channel is off"


class _EnvSettings(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True, frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=1)

    @classmethod
    def from_env(cls) -> Self:
        return cls.model_validate(dict(os.environ))


class ApiSettings(_EnvSettings):
    """delivery_events."""


class _SecretsKeySettings(_EnvSettings):
    # P3: the KMS key practice secrets are sealed with (decrypt only, per purpose).
    secrets_key_arn: str = Field(alias="SECRETS_KEY_ARN", min_length=1)


class CallbackSettings(_SecretsKeySettings):
    """practice_callback (signs callbacks with the practice's callback secret)."""

    # Set by the local stack only (never in the template, tests/infra checks): the test
    # practices' endpoints listen on http://127.0.0.1. On AWS: public https only (P6).
    local_loopback_callbacks: bool = Field(default=False, alias="LOCAL_LOOPBACK_CALLBACKS")


class _LinkKeySettings(_EnvSettings):
    # P3: the KMS HMAC key patient-link tokens are derived from.
    link_key_arn: str = Field(alias="LINK_KEY_ARN", min_length=1)


class PatientPagesSettings(_LinkKeySettings):
    """patient_links (a day's grouped reminder links each appointment's own page, R11)."""


class PracticeApiSettings(_LinkKeySettings, _SecretsKeySettings):
    """booking_webhook (the practice API: verifies signatures, derives link tokens)."""


class PlannerSettings(_LinkKeySettings):
    """schedule_reminder: message plans, settlements, recall periods, freed-slot offers
    and erasures."""

    schedule_group: str = Field(alias="SCHEDULE_GROUP", min_length=1)
    send_function_arn: str = Field(alias="SEND_FUNCTION_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", min_length=1)
    scheduler_dlq_arn: str | None = Field(default=None, alias="SCHEDULER_DLQ_ARN")
    recall_function_arn: str | None = Field(default=None, alias="RECALL_FUNCTION_ARN")
    escalation_state_machine_arn: str = Field(alias="ESCALATION_STATE_MACHINE_ARN", min_length=1)


class RecallSettings(_EnvSettings):
    """recall_sweep (it hands each due recall to send_push)."""

    send_function_arn: str = Field(alias="SEND_FUNCTION_ARN", min_length=1)


class SmsOrigination(BaseModel):
    """Where SMS to one destination country come from (an AWS account has no single
    sender: identities, registration and sender-id rules differ per country)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    # An E.164 origination number, or an End User Messaging phone-number / pool ARN.
    origination: str = Field(default="", max_length=256)
    # Alphanumeric sender id where the country allows one (it cannot receive replies).
    sender_id: str = Field(default="", max_length=11, pattern=r"^[A-Za-z0-9]*$")
    # Message parts per second this identity may send (its AWS quota: a US toll-free
    # number 3, a long code 1...). Unset: only the account's rate paces it (D17).
    parts_per_second: float | None = Field(default=None, gt=0, le=10_000)


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class SmsSettings(_EnvSettings):
    """sms_sender (it sends the SMS that waited for their moment in the paced queue, D17);
    what every function that sends SMS shares."""

    sms_originations: Json[dict[CountryCode, SmsOrigination]] = Field(
        default_factory=dict, alias="SMS_ORIGINATIONS"
    )
    # End User Messaging SMS number with two-way on (phone-...), or "none" (T1).
    sms_two_way_number_id: str = Field(alias="SMS_TWO_WAY_NUMBER_ID", pattern=r"^(phone-[0-9a-f]{32}|none)$")
    # The account's SMS rate, message parts per second (AWS's default quota is 20).
    sms_parts_per_second: float = Field(alias="SMS_PARTS_PER_SECOND", gt=0, le=10_000)
    # The part of each rate kept for urgent SMS, in percent (D17).
    sms_urgent_share_percent: int = Field(alias="SMS_URGENT_SHARE_PERCENT", ge=10, le=90)
    # Where an SMS waits for its moment when the rate has none free now (D17).
    sms_queue_url: str = Field(alias="SMS_QUEUE_URL", min_length=1)


class PacedSmsSettings(SmsSettings, _LinkKeySettings):
    """sms_sender (a grouped reminder written again carries patient links, R11)."""

    public_base_url: str = Field(alias="PUBLIC_BASE_URL", min_length=1)


class SmsSenderSettings(PacedSmsSettings):
    """sms_sender: an SMS that does not leave hands its email to send_push (D17)."""

    send_function_arn: str = Field(alias="SEND_FUNCTION_ARN", min_length=1)


class FallbackSettings(PacedSmsSettings):
    """sms_fallback (the state machine invokes it, so it cannot know the machine's ARN)."""

    email_from: str = Field(alias="EMAIL_FROM", min_length=3)
    email_configuration_set: str = Field(alias="EMAIL_CONFIGURATION_SET", min_length=1)
    push_fcm_arn: str = Field(alias="PUSH_FCM_ARN", min_length=1)
    push_apns_arn: str = Field(alias="PUSH_APNS_ARN", min_length=1)

    @field_validator("email_from")
    @classmethod
    def _address_or_none(cls, value: str) -> str:
        if value != NOT_CONFIGURED and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", value):
            raise ValueError("an email address, or 'none'")
        return value


class SenderSettings(FallbackSettings):
    """send_push."""

    escalation_state_machine_arn: str = Field(alias="ESCALATION_STATE_MACHINE_ARN", min_length=1)

"""Each function's environment, validated once at cold start (CDK sets exactly these)."""

from __future__ import annotations

import os
from typing import Self

from pydantic import BaseModel, ConfigDict, Field


class _EnvSettings(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=1)

    @classmethod
    def from_env(cls) -> Self:
        return cls.model_validate(dict(os.environ))


class ApiSettings(_EnvSettings):
    """booking_webhook and patient_links."""


class PlannerSettings(_EnvSettings):
    """schedule_reminder (and slot_released)."""

    schedule_group: str = Field(alias="SCHEDULE_GROUP", min_length=1)
    send_function_arn: str = Field(alias="SEND_FUNCTION_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", min_length=1)
    scheduler_dlq_arn: str | None = Field(default=None, alias="SCHEDULER_DLQ_ARN")
    recall_function_arn: str | None = Field(default=None, alias="RECALL_FUNCTION_ARN")


class RecallSettings(_EnvSettings):
    """recall_sweep (it hands each due recall to send_push)."""

    send_function_arn: str = Field(alias="SEND_FUNCTION_ARN", min_length=1)


class FallbackSettings(_EnvSettings):
    """sms_fallback (the state machine invokes it, so it cannot know the machine's ARN)."""

    public_base_url: str = Field(alias="PUBLIC_BASE_URL", min_length=1)
    email_from: str = Field(alias="EMAIL_FROM", min_length=3)
    push_fcm_arn: str = Field(alias="PUSH_FCM_ARN", min_length=1)
    push_apns_arn: str = Field(alias="PUSH_APNS_ARN", min_length=1)


class SenderSettings(FallbackSettings):
    """send_push."""

    escalation_state_machine_arn: str = Field(alias="ESCALATION_STATE_MACHINE_ARN", min_length=1)

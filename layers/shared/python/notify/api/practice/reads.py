"""What a practice reads back: the ledger (B5), notices (B6), SMS usage (C7), usage
statistics (K6) and outcome statistics (A1)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...services import outcomes, practice_reads, statistics
from .params import DAY_PATTERN, ID_PATTERN, EntityId, Month, PracticeId

router = APIGatewayRouter()


@router.get(
    "/practices/<practice_id>/appointments/<appointment_id>", summary="An appointment and every message of it"
)
def read_appointment(practice_id: PracticeId, appointment_id: EntityId) -> dict[str, Any]:
    return practice_reads.appointment_report(practice_id, appointment_id, utcnow())


@router.get("/practices/<practice_id>/patients/<patient_id>/messages", summary="Every message of a patient")
def read_patient_messages(practice_id: PracticeId, patient_id: EntityId) -> dict[str, Any]:
    return practice_reads.patient_messages(practice_id, patient_id, utcnow())


@router.get("/practices/<practice_id>/notices", summary="What the practice was told")
def read_notices(practice_id: PracticeId) -> dict[str, Any]:
    return practice_reads.notices(practice_id)


@router.get(
    "/practices/<practice_id>/usage", summary="SMS used in a month (UTC; this month by default) against the quota"
)
def read_usage(practice_id: PracticeId, month: Month = None) -> dict[str, Any]:
    return practice_reads.sms_usage(practice_id, utcnow(), month)


@router.get("/practices/<practice_id>/statistics", summary="Usage per feature and practice-local day")
def read_statistics(
    practice_id: PracticeId,
    first: Annotated[str | None, Query(alias="from", pattern=DAY_PATTERN)] = None,
    last: Annotated[str | None, Query(alias="to", pattern=DAY_PATTERN)] = None,
) -> dict[str, Any]:
    today = statistics.local_day(utcnow(), practice_reads.practice_settings(practice_id).timezone)
    return statistics.usage(practice_id, first or today[:8] + "01", last or today)


@router.get(
    "/practices/<practice_id>/outcomes",
    summary="What the messages achieved per practice-local day and calendar: confirmations, "
    "cancellations, no-shows, freed slots filled and time to fill, SMS parts, escalations",
)
def read_outcomes(
    practice_id: PracticeId,
    first: Annotated[str | None, Query(alias="from", pattern=DAY_PATTERN)] = None,
    last: Annotated[str | None, Query(alias="to", pattern=DAY_PATTERN)] = None,
    calendar_id: Annotated[str | None, Query(alias="calendar", max_length=64, pattern=ID_PATTERN)] = None,
) -> dict[str, Any]:
    today = statistics.local_day(utcnow(), practice_reads.practice_settings(practice_id).timezone)
    return outcomes.report(practice_id, first or today[:8] + "01", last or today, calendar_id)


@router.get("/practices/<practice_id>/settings", summary="The practice's configuration (every setting)")
def read_settings(practice_id: PracticeId) -> dict[str, Any]:
    return practice_reads.practice_configuration(practice_id)


@router.get("/practices/<practice_id>/sms-consent", summary="Numbers that stopped or restarted SMS, with history")
def read_sms_consent(practice_id: PracticeId) -> dict[str, Any]:
    return {"numbers": practice_reads.sms_consent(practice_id)}

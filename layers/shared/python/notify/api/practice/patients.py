"""A patient's data: everything held about them (P5), and their erasure (P1)."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...domain.event_order import ChangeStamp
from ...services import erasure, practice_reads
from .params import EntityId, PracticeId

router = APIGatewayRouter()


@router.get(
    "/practices/<practice_id>/patients/<patient_id>/export",
    summary="Everything held about one patient (GDPR art. 15)",
)
def export_patient(practice_id: PracticeId, patient_id: EntityId) -> dict[str, Any]:
    return practice_reads.patient_export(practice_id, patient_id, utcnow())


@router.delete(
    "/practices/<practice_id>/patients/<patient_id>",
    summary="Erase everything held about one patient (GDPR art. 17)",
    responses={202: {"description": "erasing"}},
)
def erase_patient(practice_id: PracticeId, patient_id: EntityId) -> Response[Any]:
    now = utcnow()
    request_id = f"api-{uuid.uuid4().hex}"
    erasure.request_erasure(practice_id, patient_id, ChangeStamp(now), now, (request_id, "patient.erased"))
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"status": "erasing", "request_id": request_id},
    )

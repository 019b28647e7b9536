"""Recalls sent by hand (K4, K5) and the blocked communication list (K4)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...events import BlockedNumber, ManualRecall
from ...services import recalls
from .params import PhoneNumber, PracticeId, wired

router = APIGatewayRouter()


@router.post(
    "/practices/<practice_id>/recalls",
    summary="Send a recall now (blocked numbers get no SMS; no-marketing patients need confirmed: true)",
    responses={202: {"description": "sending"}, 409: {"description": "needs confirmation (no-marketing patient)"}},
)
def send_recall(practice_id: PracticeId, request: Annotated[ManualRecall, Body()]) -> Response[Any]:
    api = wired()
    result = recalls.manual_send(practice_id, request, utcnow(), api.links)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=result)


@router.put(
    "/practices/<practice_id>/blocked-numbers/<number>",
    summary="Tick or untick 'blocked recalls' for a mobile number",
)
def put_blocked_number(
    practice_id: PracticeId, number: PhoneNumber, entry: Annotated[BlockedNumber, Body()]
) -> dict[str, Any]:
    stored = recalls.block_number(practice_id, number, entry.blocked_recalls, utcnow())
    return {"number": stored, "blocked_recalls": entry.blocked_recalls}


@router.get("/practices/<practice_id>/blocked-numbers", summary="The blocked communication list")
def read_blocked_numbers(practice_id: PracticeId) -> dict[str, Any]:
    return {"numbers": recalls.blocked_numbers(practice_id)}

"""`POST /practices/{id}/events`: one event from the practice's system (signed with
Standard Webhooks, checked by the guard before this runs)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...events import WebhookEvent
from ...services.intake import apply_event
from .params import PracticeId, wired

router = APIGatewayRouter()


@router.post(
    "/practices/<practice_id>/events",
    summary="Receive one PMS event",
    responses={202: {"description": "applied, duplicate, stale or held"}},
)
def receive_event(practice_id: PracticeId, event: Annotated[WebhookEvent, Body()]) -> Response[Any]:
    api = wired()
    result = apply_event(practice_id, event, utcnow(), api.links)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"status": result.status.value, "event_id": result.event_id},
    )

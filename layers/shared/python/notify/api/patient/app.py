"""What the patient's app tells us through the link: a push was opened (C4, R6)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from ...clock import utcnow
from ...services.app_receipts import record_opened
from .pages import Token

router = APIGatewayRouter()


class Receipt(BaseModel):
    message_id: str = Field(min_length=3, max_length=200)


@router.post("/l/<token>/receipt", summary="The app reports a push as opened")
def push_opened(token: Token, receipt: Annotated[Receipt, Body()]) -> dict[str, Any]:
    return {"status": record_opened(token, receipt.message_id, utcnow())}

"""`GET /openapi.json`: the practice API's contract, unsigned (docs/api/openapi.json)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ..openapi import SERVED_AT, document

router = APIGatewayRouter()


@router.get(SERVED_AT, summary="This document", include_in_schema=True)
def openapi() -> dict[str, Any]:
    return document()

"""How patient pages answer: HTML that is never cached or indexed, or JSON for the app;
links on a page start with the prefix of the page's own URL (request_paths)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from ...link_page import gone_page
from ...request_paths import public_prefix
from ...services.errors import ServiceError
from ..errors import status_of

HTML = "text/html; charset=utf-8"
Token = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]
SlotId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


def root(router: Any) -> str:
    """The prefix of the caller's URL (stage or base path): page links start with it."""
    return public_prefix(router.current_event.raw_event)


def wants_json(router: Any) -> bool:
    return "application/json" in (router.current_event.headers or {}).get("accept", "")


def html(status: int, body: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=HTML,
        body=body,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex", **(headers or {})},
    )


def json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "no-store"},
    )


def redirect(location: str, status: int = 302) -> Response[str]:
    """302 for a page that sends on (GET), 303 after an action (POST)."""
    return Response(
        status_code=status, content_type=HTML, body="", headers={"Location": location, "Cache-Control": "no-store"}
    )


def error_page(error: ServiceError) -> Response[str]:
    return html(status_of(error), gone_page())

"""How patient pages answer: HTML that is never cached or indexed, or JSON for the app;
links on a page start with the prefix of the page's own URL (request_paths)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from ...dal import practices as practice_store
from ...dal.errors import NotFoundError
from ...pages import browser_locale
from ...pages import error_page as error_html
from ...request_paths import public_prefix
from ...services.errors import LinkNotFoundError, ServiceError
from ..errors import status_of

HTML = "text/html; charset=utf-8"
# Checked by the services (a trailing "." or ")" from an SMS app is tolerated there).
Token = Annotated[str, Path(min_length=1, max_length=64)]
SlotId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


def root(router: Any) -> str:
    """The prefix of the caller's URL (stage or base path): page links start with it."""
    return public_prefix(router.current_event.raw_event)


def absolute(router: Any, path: str) -> str:
    """`path` (under the caller's prefix) as a full URL on the host the caller used."""
    host = (router.current_event.headers or {}).get("host") or (router.current_event.headers or {}).get("Host", "")
    return f"https://{host}{root(router)}{path}"


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


def page_error(router: Any) -> Any:
    """The patient pages' answer to any refusal: a page in the patient's language (the
    practice's, when the link told us the practice; else the browser's), with the
    practice's name and a way forward when known."""

    def answer(error: Exception) -> Response[str]:
        locale = browser_locale((router.current_event.headers or {}).get("accept-language"))
        settings = None
        practice_id = getattr(error, "practice_id", None)
        if practice_id:
            try:
                settings = practice_store.get_practice(practice_id).settings
                locale = settings.locale
            except NotFoundError:
                settings = None
        status = status_of(error) if isinstance(error, ServiceError) else 404
        return html(status, error_html(locale, settings))

    return answer


__all__ = ["LinkNotFoundError", "absolute", "html", "json", "page_error", "redirect", "root", "wants_json"]

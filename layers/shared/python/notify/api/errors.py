"""Every refusal of a use case (services/errors.py), and every invalid request, as the
HTTP answer the APIs give: one status per refusal, one JSON error shape for the practice
API (`{"error", "fields": [{"field", "message"}]}`, with "in" (body, query, path) when the
request itself was invalid), pages for patients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..request_guard import error_body
from ..services import errors

# The status of each refusal; a subclass takes its closest listed ancestor's.
STATUS: dict[type[errors.ServiceError], int] = {
    errors.NotAuthenticatedError: 401,
    errors.UnsupportedEventError: 422,
    errors.InvalidSettingsError: 422,
    errors.EventRejectedError: 409,
    errors.NotFoundForPracticeError: 404,
    errors.NeedsConfirmationError: 409,
    errors.NotAMobileNumberError: 422,
    errors.LinkNotFoundError: 404,
    errors.ActionNotAllowedError: 409,
    errors.FormProblemError: 422,
    errors.UnknownMessageError: 404,
}


def status_of(error: errors.ServiceError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def json_error(status: int, message: str, fields: list[dict[str, str]] | None = None) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=error_body(message, fields)
    )


def service_error_as_json(error: errors.ServiceError) -> Response[Any]:
    message = str(error) or type(error).__name__
    if isinstance(error, errors.NotAuthenticatedError):
        return json_error(401, "invalid signature")  # the reason stays in our log
    body: dict[str, Any] = error_body(message, [{"field": error.field, "message": message}])
    if isinstance(error, errors.NeedsConfirmationError):
        body["status"] = "needs_confirmation"
    return Response(status_code=status_of(error), content_type=content_types.APPLICATION_JSON, body=body)


def field_of(loc: tuple[Any, ...]) -> tuple[str, str]:
    """(field, where) of a validation error's location, as a practice's developer reads
    it: `data.platform` in the body (the event union's tag left out), `month` in the query."""
    from ..events import EVENT_TYPES  # the practice API's models (never the pages')

    where, *rest = [str(part) for part in loc] or ["body"]
    path = [part for part in rest if part not in EVENT_TYPES]
    return ".".join(path) or where, where


def validation_error_as_json(error: RequestValidationError) -> Response[Any]:
    from ..events import EVENT_TYPES

    fields = []
    for e in error.errors():
        field, where = field_of(tuple(e.get("loc", ())))
        message = str(e.get("msg", e.get("type", "invalid")))
        if e.get("type") in ("union_tag_invalid", "union_tag_not_found"):  # the event's type
            field, message = "type", f"unknown event type; known types: {', '.join(sorted(EVENT_TYPES))}"
        fields.append({"field": field, "in": where, "message": message})
    return json_error(422, "invalid request", fields)


def register_json(app: Any) -> None:
    """The practice API's error answers."""
    app.exception_handler(errors.ServiceError)(service_error_as_json)
    app.exception_handler(RequestValidationError)(validation_error_as_json)


def register_pages(app: Any, page_of: Callable[[Exception], Response[Any]]) -> None:
    """The patient pages' error answers: a page, in the patient's language, also for a
    link that is not even well-formed (a truncated SMS)."""
    app.exception_handler(errors.ServiceError)(page_of)
    app.exception_handler(RequestValidationError)(page_of)

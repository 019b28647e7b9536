"""Practice API: signed webhook events in (and the practice's reads of what happened).

Every route is signed: the signature, size, content type and JSON sanity are checked
before the resolver parses anything (see `_refusal`)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.clock import utcnow
from notify.contracts import BlockedNumber, ManualRecall, WebhookEvent
from notify.domain.webhook_signature import SignatureError
from notify.observability import logger, metrics, tracer
from notify.request_guard import body_refusal, error_body, proxy_error, raw_body, too_large
from notify.request_paths import normalise
from notify.services import recalls, statistics
from notify.services.authentication import authenticate_practice
from notify.services.intake import EventRejectedError, apply_event
from notify.services.practice_reads import (
    NotFoundForPracticeError,
    appointment_report,
    notices,
    patient_messages,
    practice_settings,
    sms_usage,
)
from notify.settings import ApiSettings

settings = ApiSettings.from_env()
app = APIGatewayRestResolver(enable_validation=True)
PracticeId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
EntityId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
PhoneNumber = Annotated[str, Path(min_length=3, max_length=20, pattern=r"^\+?[0-9]+$")]
DAY = r"^\d{4}-\d{2}-\d{2}$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


def _error(status: int, message: str, fields: list[dict] | None = None) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=error_body(message, fields)
    )


def _refusal(event: dict) -> dict | None:
    """What every request must pass before anything parses its body: size, signature
    (an unsigned caller learns nothing about the API), content type, sane JSON."""
    body = raw_body(event)
    refusal = too_large(body)
    if refusal is not None:
        return refusal
    try:
        authenticate_practice(
            (event.get("pathParameters") or {}).get("practice_id"),
            dict(event.get("headers") or {}),
            body,
            utcnow(),
        )
    except SignatureError as exc:
        logger.warning("webhook rejected", reason=str(exc))
        return proxy_error(401, "invalid signature")
    if event.get("httpMethod", "GET") in ("GET", "HEAD", "DELETE") and not body:
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return proxy_error(
            415,
            "unsupported content type",
            [{"field": "headers.content-type", "message": "send application/json"}],
        )
    return body_refusal(body, json_required=True)


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response:
    fields = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ())),
            "message": err.get("msg", err.get("type", "invalid")),
        }
        for err in exc.errors()
    ]
    return _error(422, "invalid event", fields)


@app.exception_handler(EventRejectedError)
def rejected(exc: EventRejectedError) -> Response:
    return _error(exc.status, str(exc), [{"field": exc.field, "message": str(exc)}])


@app.post(
    "/practices/<practice_id>/events",
    summary="Receive one PMS event",
    responses={202: {"description": "applied or duplicate"}},
)
def receive_event(practice_id: PracticeId, event: Annotated[WebhookEvent, Body()]):  # noqa: ANN201
    result = apply_event(practice_id, event, utcnow())
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"status": result.status, "event_id": result.event_id},
    )


@app.exception_handler(NotFoundForPracticeError)
def not_found(exc: NotFoundForPracticeError) -> Response:
    return _error(404, "not found", [{"field": "path", "message": "unknown id"}])


@app.get(
    "/practices/<practice_id>/appointments/<appointment_id>", summary="An appointment and every message of it (B5)"
)
def read_appointment(practice_id: PracticeId, appointment_id: EntityId) -> dict:
    return appointment_report(practice_id, appointment_id)


@app.get("/practices/<practice_id>/patients/<patient_id>/messages", summary="Every message of a patient (B5)")
def read_patient_messages(practice_id: PracticeId, patient_id: EntityId) -> dict:
    return patient_messages(practice_id, patient_id)


@app.get("/practices/<practice_id>/notices", summary="Patient actions and moves told to the practice (B6)")
def read_notices(practice_id: PracticeId) -> dict:
    return notices(practice_id)


@app.get(
    "/practices/<practice_id>/usage",
    summary="SMS used in a month (UTC, this one by default) against the quota (C7)",
)
def read_usage(practice_id: PracticeId, month: Annotated[str | None, Query(pattern=MONTH)] = None) -> dict:
    return sms_usage(practice_id, utcnow(), month)


@app.exception_handler(recalls.UnknownPatientError)
def unknown_patient(exc: recalls.UnknownPatientError) -> Response:
    return _error(404, "unknown patient", [{"field": "patient_id", "message": "unknown id"}])


@app.exception_handler(recalls.NeedsConfirmationError)
def needs_confirmation(exc: recalls.NeedsConfirmationError) -> Response:
    return Response(
        status_code=409,
        content_type=content_types.APPLICATION_JSON,
        body={
            "status": "needs_confirmation",
            "error": str(exc),
            "fields": [{"field": "confirmed", "message": str(exc)}],
        },
    )


@app.post(
    "/practices/<practice_id>/recalls",
    summary="Send a recall now (K4 blocked numbers get no SMS, K5 confirmation)",
    responses={202: {"description": "sending"}, 409: {"description": "needs confirmation (no-marketing patient)"}},
)
def send_recall(practice_id: PracticeId, request: Annotated[ManualRecall, Body()]):  # noqa: ANN201
    result = recalls.manual_send(practice_id, request, utcnow())
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=result)


@app.put(
    "/practices/<practice_id>/blocked-numbers/<number>",
    summary="Tick or untick 'blocked recalls' for a mobile number (K4)",
)
def put_blocked_number(practice_id: PracticeId, number: PhoneNumber, entry: Annotated[BlockedNumber, Body()]):  # noqa: ANN201
    stored = recalls.block_number(practice_id, number, entry.blocked_recalls, utcnow())
    if stored is None:
        return _error(422, "not a mobile number", [{"field": "number", "message": "not a valid mobile number"}])
    return {"number": stored, "blocked_recalls": entry.blocked_recalls}


@app.get("/practices/<practice_id>/blocked-numbers", summary="The blocked communication list (K4)")
def read_blocked_numbers(practice_id: PracticeId) -> dict:
    return {"numbers": recalls.blocked_numbers(practice_id)}


@app.get("/practices/<practice_id>/statistics", summary="Usage per feature and practice-local day (K6)")
def read_statistics(
    practice_id: PracticeId,
    first: Annotated[str | None, Query(alias="from", pattern=DAY)] = None,
    last: Annotated[str | None, Query(alias="to", pattern=DAY)] = None,
) -> dict:
    today = statistics.local_day(utcnow(), practice_settings(practice_id).timezone)
    return statistics.usage(practice_id, first or today[:8] + "01", last or today)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    refusal = _refusal(event)
    if refusal is not None:
        return refusal
    return app.resolve(normalise(event), context)

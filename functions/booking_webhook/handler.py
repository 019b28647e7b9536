"""Practice API: signed webhook events in (and the practice's reads of what happened)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.clock import utcnow
from notify.contracts import WebhookEvent
from notify.domain.webhook_signature import SignatureError
from notify.observability import logger, metrics, tracer
from notify.services.authentication import authenticate_practice
from notify.services.intake import EventRejectedError, apply_event
from notify.settings import ApiSettings

settings = ApiSettings.from_env()
app = APIGatewayRestResolver(enable_validation=True)
PracticeId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
MAX_BODY = 64 * 1024


def _error(status: int, message: str, fields: list[dict] | None = None) -> Response:
    body = {"error": message, **({"fields": fields} if fields else {})}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _authenticate() -> Response | None:
    event = app.current_event
    body = (event.body or "").encode()
    if len(body) > MAX_BODY:
        return _error(413, "body too large", [{"field": "body", "message": f"max {MAX_BODY} bytes"}])
    try:
        authenticate_practice((event.path_parameters or {}).get("practice_id"),
                              dict(event.headers or {}), body, utcnow())
    except SignatureError as exc:
        logger.warning("webhook rejected", reason=str(exc))
        return _error(401, "invalid signature")
    return None


def require_signature(app: APIGatewayRestResolver, next_middleware) -> Response:
    return _authenticate() or next_middleware(app)


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response:
    # Validation runs before route middlewares: authenticate first, so that an unsigned
    # caller learns nothing about the payload format.
    denied = _authenticate()
    if denied is not None:
        return denied
    fields = [{"field": ".".join(str(p) for p in err.get("loc", ())),
               "message": err.get("msg", err.get("type", "invalid"))} for err in exc.errors()]
    return _error(422, "invalid event", fields)


@app.exception_handler(EventRejectedError)
def rejected(exc: EventRejectedError) -> Response:
    return _error(exc.status, str(exc), [{"field": exc.field, "message": str(exc)}])


@app.post("/v1/practices/<practice_id>/events", middlewares=[require_signature],
          summary="Receive one PMS event", responses={202: {"description": "applied or duplicate"}})
def receive_event(practice_id: PracticeId, event: Annotated[WebhookEvent, Body()]):  # noqa: ANN201
    result = apply_event(practice_id, event, utcnow())
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON,
                    body={"status": result.status, "event_id": result.event_id})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

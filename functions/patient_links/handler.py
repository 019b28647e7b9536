"""Patient links: the appointment page and its actions (R4), no login."""

from typing import Annotated, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from notify.clock import utcnow
from notify.link_page import appointment_page, gone_page, offer_page, recall_page
from notify.observability import logger, metrics, tracer
from notify.rendering import local_times, pick_locale
from notify.request_guard import body_refusal, raw_body, too_large
from notify.request_paths import normalise, public_prefix
from notify.services.app_receipts import UnknownMessageError, record_opened, register_device
from notify.services.patient_actions import (
    ActionNotAllowedError,
    LinkNotFoundError,
    PatientAction,
    act,
    open_link,
)
from notify.services.recalls import RecallLinkNotFoundError, open_recall_link
from notify.services.slot_offers import OfferView, accept_offer, view_offer
from notify.settings import ApiSettings

settings = ApiSettings.from_env()
app = APIGatewayRestResolver(enable_validation=True)
Token = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]
SlotId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
HTML = "text/html; charset=utf-8"


def _root() -> str:
    """The prefix of the caller's URL (stage or base path): page links start with it."""
    return public_prefix(app.current_event.raw_event)


def _html(status: int, body: str) -> Response:
    return Response(
        status_code=status,
        content_type=HTML,
        body=body,
        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
    )


@app.exception_handler(LinkNotFoundError)
def not_found(exc: LinkNotFoundError) -> Response:
    return _html(404, gone_page())


@app.get("/l/<token>", summary="The appointment page of a patient link")
def show(token: Token):  # noqa: ANN201
    return _html(200, appointment_page(open_link(token, utcnow()), _root()))


@app.get("/l/<token>/reschedule", summary="Go to the practice's booking page")
def reschedule(token: Token):  # noqa: ANN201
    view = open_link(token, utcnow())
    if not view.settings.booking_url or not view.can_act:
        return _html(409, appointment_page(view, _root()))
    return Response(status_code=302, content_type=HTML, body="", headers={"Location": view.settings.booking_url})


def _offer_response(offer: OfferView, slot_id: str, accepted: bool = False) -> Response:
    slot_when = None
    if offer.slot is not None:
        slot_when = local_times(offer.slot.start, offer.view.settings.timezone, offer.view.locale)["when"]
    status = (
        409 if offer.refusal == "no longer available" else (404 if offer.refusal == "offer not found" else 200)
    )
    if "application/json" in (app.current_event.headers or {}).get("accept", ""):
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body={
                "accepted": accepted,
                "refusal": offer.refusal,
                "start": offer.view.appointment.start.isoformat(),
            },
        )
    return _html(status, offer_page(offer.view, _root(), slot_id, slot_when, offer.refusal, accepted))


class Receipt(BaseModel):
    message_id: str = Field(min_length=3, max_length=200)


@app.exception_handler(UnknownMessageError)
def unknown_message(exc: UnknownMessageError) -> Response:
    return Response(
        status_code=404,
        content_type=content_types.APPLICATION_JSON,
        body={
            "error": "unknown message",
            "fields": [{"field": "body.message_id", "message": "not a message of this link"}],
        },
    )


@app.post("/l/<token>/receipt", summary="The app reports a push as opened (C4, R6)")
def push_opened(token: Token, receipt: Annotated[Receipt, Body()]) -> dict:
    return {"status": record_opened(token, receipt.message_id, utcnow())}


class Device(BaseModel):
    device_token: str = Field(min_length=8, max_length=400)
    platform: Literal["ios", "android"]
    push_enabled: bool = True


@app.post("/l/<token>/device", summary="The app registers the patient's device for push")
def device(token: Token, body: Annotated[Device, Body()]) -> dict:
    register_device(token, body.device_token, body.platform, body.push_enabled, utcnow())
    return {"status": "registered"}


@app.get("/l/<token>/offer/<slot_id>", summary="A freed-slot offer (F2)")
def show_offer(token: Token, slot_id: SlotId):  # noqa: ANN201
    return _offer_response(view_offer(token, slot_id, utcnow()), slot_id)


@app.post("/l/<token>/offer/<slot_id>", summary="Accept a freed-slot offer: first wins")
def take_offer(token: Token, slot_id: SlotId):  # noqa: ANN201
    offer = accept_offer(token, slot_id, utcnow())
    return _offer_response(offer, slot_id, accepted=offer.refusal is None)


@app.exception_handler(RecallLinkNotFoundError)
def recall_not_found(exc: RecallLinkNotFoundError) -> Response:
    return _html(404, gone_page())


def _with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"recall": token})) if q)
    return urlunsplit(parts._replace(query=query))


@app.get("/r/<token>", summary="A recall's tracked link: viewed, then the booking page (K2)")
def open_recall(token: Token):  # noqa: ANN201
    recall, practice = open_recall_link(token, utcnow())
    if "application/json" in (app.current_event.headers or {}).get("accept", ""):
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body={
                "status": recall.status.value,
                "recall_type": recall.recall_type,
                "booking_url": _with_token(practice.booking_url, token) if practice.booking_url else None,
            },
        )
    if not practice.booking_url:
        return _html(200, recall_page(practice.name, pick_locale(practice.locale)))
    return Response(
        status_code=302,
        content_type=HTML,
        body="",
        headers={"Location": _with_token(practice.booking_url, token), "Cache-Control": "no-store"},
    )


# Registered last: the literal routes above (receipt, offer) win over <action>.
@app.post("/l/<token>/<action>", summary="Confirm or cancel from a patient link")
def perform(token: Token, action: PatientAction):  # noqa: ANN201
    try:
        view = act(token, action, utcnow())
    except ActionNotAllowedError:
        return _html(409, appointment_page(open_link(token, utcnow()), _root()))
    notice = "confirmed" if action is PatientAction.CONFIRM else "cancelled"
    if "application/json" in (app.current_event.headers or {}).get("accept", ""):
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body={"status": view.appointment.status.value},
        )
    return _html(200, appointment_page(view, _root(), notice))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    body = raw_body(event)
    refusal = too_large(body) or body_refusal(body, json_required=False)
    if refusal is not None:
        return refusal
    return app.resolve(normalise(event), context)

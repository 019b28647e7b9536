"""A freed-slot offer (F2): open while nobody took it, first acceptance wins."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...pages import offer_page
from ...rendering import local_times
from ...services.slot_offers import OfferView, accept_offer, view_offer
from .pages import SlotId, Token, html, json, root, wants_json

router = APIGatewayRouter()


def _answer(offer: OfferView, slot_id: str) -> Response[Any]:
    slot_when = (
        local_times(offer.slot.start, offer.view.settings.timezone, offer.view.locale)["when"]
        if offer.slot is not None
        else None
    )
    status = {"no longer available": 409, "offer not found": 404}.get(offer.refusal or "", 200)
    if wants_json(router):
        return json(
            status,
            {"accepted": offer.won, "refusal": offer.refusal, "start": offer.view.appointment.start.isoformat()},
        )
    return html(status, offer_page(offer.view, root(router), slot_id, slot_when, offer.refusal, offer.won))


@router.get("/l/<token>/offer/<slot_id>", summary="A freed-slot offer")
def show_offer(token: Token, slot_id: SlotId) -> Response[Any]:
    return _answer(view_offer(token, slot_id, utcnow()), slot_id)


@router.post("/l/<token>/offer/<slot_id>", summary="Accept a freed-slot offer: first wins")
def take_offer(token: Token, slot_id: SlotId) -> Response[Any]:
    return _answer(accept_offer(token, slot_id, utcnow()), slot_id)

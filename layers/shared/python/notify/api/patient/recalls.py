"""A recall's link (K2): a page offering the practice's online booking. Opening it records
nothing (link scanners open every link); pressing "book" records the recall as viewed
(no escalation, K3) and goes to the booking page with the recall's token."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...pages import recall_page
from ...rendering import pick_locale
from ...services.recalls import act_on_recall_link, find_recall_link
from .pages import Token, html, json, redirect, root, wants_json

router = APIGatewayRouter()


def with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"recall": token})) if q)
    return urlunsplit(parts._replace(query=query))


@router.get("/r/<token>", summary="A recall's page: book online (records nothing)")
def show_recall(token: Token) -> Response[Any]:
    recall, settings = find_recall_link(token, utcnow())
    booking = with_token(settings.booking_url, token) if settings.booking_url else None
    if wants_json(router):
        return json(
            200, {"status": recall.status.value, "recall_type": recall.recall_type, "booking_url": booking}
        )
    return html(200, recall_page(settings, pick_locale(settings.locale), token, root(router)))


@router.post("/r/<token>/book", summary="The patient goes to book: the recall was seen")
def book_from_recall(token: Token) -> Response[Any]:
    recall, settings = act_on_recall_link(token, utcnow())
    if not settings.booking_url:
        return html(200, recall_page(settings, pick_locale(settings.locale), token, root(router)))
    return redirect(with_token(settings.booking_url, token), status=303)

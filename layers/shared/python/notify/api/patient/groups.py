"""The page of a day's grouped reminder (R11): /g/{token}. The function serving it derives
each appointment's own link token (P3: tokens are never stored), so it is wired with the
link key at cold start."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...adapters.link_keys import LinkKeys
from ...clock import utcnow
from ...pages import group_page
from ...services.group_pages import confirm_all, open_group
from .pages import Token, html, root

router = APIGatewayRouter()
_links: list[LinkKeys] = []


def wire(links: LinkKeys) -> None:
    """Called once per function (patient_links' handler), before any request."""
    _links[:] = [links]


def _keys() -> LinkKeys:
    if not _links:
        raise RuntimeError("notify.api.patient.groups.wire() was not called")
    return _links[0]


@router.get("/g/<token>", summary="A day's grouped reminder: every appointment of it (R11)")
def show_group(token: Token) -> Response[str]:
    return html(200, group_page(open_group(token, _keys(), utcnow()), root(router)))


@router.post("/g/<token>/confirm", summary="Confirm every appointment of a day's grouped reminder")
def confirm_group(token: Token) -> Response[str]:
    return html(200, group_page(confirm_all(token, _keys(), utcnow()), root(router), "confirmed"))

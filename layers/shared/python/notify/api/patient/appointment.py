"""The appointment page of a patient link (R4): see it, confirm, cancel, reschedule."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...link_page import appointment_page
from ...services.errors import ActionNotAllowedError
from ...services.patient_actions import PatientAction, act, open_link
from .pages import Token, html, json, redirect, root, wants_json

router = APIGatewayRouter()


@router.get("/l/<token>", summary="The appointment page of a patient link")
def show(token: Token) -> Response[str]:
    return html(200, appointment_page(open_link(token, utcnow()), root(router)))


@router.get("/l/<token>/reschedule", summary="Go to the practice's booking page")
def reschedule(token: Token) -> Response[str]:
    view = open_link(token, utcnow())
    if not view.settings.booking_url or not view.can_act:
        return html(409, appointment_page(view, root(router)))
    return redirect(view.settings.booking_url)


# Registered last (see the handler): the literal routes (receipt, offer) win over <action>.
@router.post("/l/<token>/<action>", summary="Confirm or cancel from a patient link")
def perform(token: Token, action: PatientAction) -> Response[Any]:
    try:
        view = act(token, action, utcnow())
    except ActionNotAllowedError:
        return html(409, appointment_page(open_link(token, utcnow()), root(router)))
    if wants_json(router):
        return json(200, {"status": view.appointment.status.value})
    notice = "confirmed" if action is PatientAction.CONFIRM else "cancelled"
    return html(200, appointment_page(view, root(router), notice))

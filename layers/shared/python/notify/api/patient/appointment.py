"""The appointment page of a patient link (R4): see it, confirm, cancel (asked once
more), reschedule (the practice's booking page, or a request to the practice: D22), add
to a calendar (R12). GETs change nothing."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Form
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...clock import utcnow
from ...pages import appointment_page, cancel_page, change_time_page
from ...request_guard import error_body
from ...services.asap import can_ask, set_asap
from ...services.errors import ActionNotAllowedError, FormProblemError
from ...services.patient_actions import AppointmentView, PatientAction, act_on, open_link, set_sms, sms_stopped
from ...services.reschedule_requests import RescheduleRequest, can_request, request_reschedule
from .pages import Token, absolute, html, json, redirect, root, wants_json

router = APIGatewayRouter()


@router.get("/l/<token>", summary="The appointment page of a patient link")
def show(token: Token) -> Response[str]:
    view = open_link(token, utcnow())
    return html(200, _page(view))


@router.post("/l/<token>/asap", summary="Offer me an earlier time if one frees up (F4)")
def join_asap(token: Token) -> Response[str]:
    return _asap(token, True)


@router.post("/l/<token>/asap-leave", summary="Take me off the list for an earlier time (F4)")
def leave_asap(token: Token) -> Response[str]:
    return _asap(token, False)


def _asap(token: str, on: bool) -> Response[str]:
    try:
        view = set_asap(token, on, utcnow())
    except ActionNotAllowedError:
        return html(409, _page(open_link(token, utcnow()), "not_allowed"))
    return html(200, _page(view, "asap_on" if on else "asap_off"))


def _page(view: AppointmentView, notice: str | None = None) -> str:
    """The appointment page with the switches this appointment offers (T2, F4)."""
    asap = (view.appointment.asap_since is not None) if can_ask(view) else None
    return appointment_page(
        view, root(router), notice, sms_stopped=sms_stopped(view), asap=asap, change_time=can_request(view)
    )


@router.post("/l/<token>/sms-stop", summary="Stop SMS from this practice (as STOP by text)")
def stop_sms(token: Token) -> Response[str]:
    view = set_sms(token, True, utcnow())
    return html(200, _page(view, "sms_stopped"))


@router.post("/l/<token>/sms-start", summary="Get SMS from this practice again (as START by text)")
def start_sms(token: Token) -> Response[str]:
    view = set_sms(token, False, utcnow())
    return html(200, _page(view, "sms_started"))


@router.get("/l/<token>/reschedule", summary="Go to the practice's booking page")
def reschedule(token: Token) -> Response[str]:
    view = open_link(token, utcnow())
    if not view.settings.booking_url or not view.can_act:
        return html(409, _page(view, "not_allowed"))
    return redirect(view.settings.booking_url)


@router.get("/l/<token>/change-time", summary="The form asking the practice for another time")
def change_time_form(token: Token) -> Response[str]:
    view = open_link(token, utcnow())
    if not can_request(view):
        return html(409, _page(view, "not_allowed"))
    if view.appointment.reschedule_requested_at is not None:
        return html(200, _page(view))  # asked already: the page says when
    return html(200, change_time_page(view, root(router), {}))


@router.post("/l/<token>/change-time", summary="Ask the practice for another time")
def change_time(
    token: Token,
    days: Annotated[str, Form()] = "any",
    times: Annotated[str, Form()] = "any",
    note: Annotated[str, Form()] = "",
) -> Response[Any]:
    """The page's form; the app (C4) posts the same fields and asks for JSON."""
    try:
        wanted = RescheduleRequest.from_form(days, times, note)
        view = request_reschedule(token, wanted, utcnow(), via="app" if wants_json(router) else "patient link")
    except FormProblemError as problem:
        view = open_link(token, utcnow())
        if wants_json(router):
            return json(422, error_body("invalid request", [{"field": problem.field, "message": problem.message}]))
        chosen = {"days": days, "times": times, "note": note}
        return html(422, change_time_page(view, root(router), chosen, (problem.field, problem.problem)))
    except ActionNotAllowedError:
        return html(409, _page(open_link(token, utcnow()), "not_allowed"))
    if wants_json(router):
        asked = view.appointment.reschedule_requested_at
        return json(
            200,
            {
                "status": view.appointment.status.value,
                "reschedule_requested_at": asked.isoformat() if asked else None,
            },
        )
    return html(200, _page(view, "reschedule_requested"))


@router.get("/l/<token>/cancel", summary="Asks once more before cancelling")
def ask_cancel(token: Token) -> Response[str]:
    view = open_link(token, utcnow())
    if not view.can_cancel:
        return html(409, _page(view, "not_allowed"))
    return html(200, cancel_page(view, root(router)))


@router.get("/l/<token>/calendar.ics", summary="The appointment as an iCalendar file")
def calendar(token: Token) -> Response[Any]:
    view = open_link(token, utcnow())
    link = absolute(router, f"/l/{view.token}")
    from ...calendar_file import appointment_ics  # icalendar loads for this route only

    body = appointment_ics(view.appointment, view.settings, link, utcnow())
    return Response(
        status_code=200,
        content_type="text/calendar; charset=utf-8",
        body=body.decode(),
        headers={"Content-Disposition": 'attachment; filename="appointment.ics"', "Cache-Control": "no-store"},
    )


@router.post("/l/<token>/confirm", summary="Confirm from a patient link")
def confirm(token: Token) -> Response[Any]:
    return _act(token, PatientAction.CONFIRM)


@router.post("/l/<token>/cancel", summary="Cancel from a patient link")
def cancel(token: Token) -> Response[Any]:
    return _act(token, PatientAction.CANCEL)


def _act(token: str, action: PatientAction) -> Response[Any]:
    now = utcnow()
    try:
        before = open_link(token, now)
        view = act_on(before, action, now, via="app" if wants_json(router) else "patient link")
    except ActionNotAllowedError:
        return html(409, _page(open_link(token, now), "not_allowed"))
    if wants_json(router):
        return json(200, {"status": view.appointment.status.value})
    if action is PatientAction.CANCEL:
        return html(200, _page(view, "cancelled"))
    # D22: confirming while asking for another time keeps the booked time.
    return html(200, _page(view, "kept_time" if before.asking_for_another_time else "confirmed"))

"""The patient's pages (R4, F2, K2 and every error), as jinja2 templates
(templates/pages/) with their words in one file per language (templates/pages/<lang>.json).

Each page shows only what makes sense in the appointment's state: confirm while it is
booked and ahead, cancel (after asking once more) until the practice's late-cancellation
window, a new booking once cancelled; every link and form starts with the prefix of the
page's own URL (`root`: the stage or a custom domain's base path). No JavaScript.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .domain.model import AppointmentStatus, PracticeSettings
from .domain.template_limits import LOCALES
from .rendering import local_times
from .services.group_pages import GroupView
from .services.patient_actions import AppointmentView

if TYPE_CHECKING:
    from jinja2 import Environment

_PAGES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(_PAGES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


@cache
def words(locale: str) -> dict[str, str]:
    """Every word of the pages in one language (en when the language is not ours)."""
    code = locale if locale in LOCALES else "en"
    loaded: dict[str, str] = json.loads((_PAGES / "pages" / f"{code}.json").read_text(encoding="utf-8"))
    return loaded


def browser_locale(accept_language: str | None) -> str:
    """The first of our languages the browser asks for (Accept-Language), else en."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LOCALES:
            return code
    return "en"


def _render(template: str, locale: str, **values: Any) -> str:
    t = words(locale)
    return _environment().get_template(f"pages/{template}.html.j2").render(locale=locale, t=t, **values)


def _call(settings: PracticeSettings, key: str, locale: str) -> str:
    return words(locale)[key].format(practice=settings.name)


def appointment_page(
    view: AppointmentView,
    root: str,
    notice: str | None = None,
    sms_stopped: bool | None = None,
    asap: bool | None = None,
    change_time: bool = False,
) -> str:
    """`change_time`: the practice takes requests for another time (D22) and this
    appointment can still change."""
    t = words(view.locale)
    appointment, settings = view.appointment, view.settings
    status = appointment.status
    if status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED) and not view.can_act:
        state = "state_past"
    else:
        state = f"state_{status.value}"
    cancelled = status is AppointmentStatus.CANCELLED
    late = view.can_act and not view.can_cancel
    call_us = cancelled and not settings.booking_url and bool(settings.phone)
    return _render(
        "appointment",
        view.locale,
        title=t["title"],
        practice=settings.name,
        when=view.when,
        practitioner=appointment.practitioner,
        state_text=t.get(state, ""),
        notice=t.get(f"notice_{notice}", "").format(practice=settings.name) if notice else "",
        notice_warn=notice == "not_allowed",
        root=root,
        token=view.token,
        can_confirm=view.can_confirm,
        # D22: asking for another time, confirming keeps the booked time and ends the request.
        keep_time=view.asking_for_another_time,
        can_cancel=view.can_cancel,
        can_reschedule=view.can_act and bool(settings.booking_url),
        # R4 (D22): ask the practice for another time, once; then what was asked, when.
        can_ask_change=change_time and appointment.reschedule_requested_at is None,
        change_asked=_asked(view) if change_time else "",
        late_to_cancel=_call(settings, "late_to_cancel", view.locale) if late else "",
        rebook_url=settings.booking_url if cancelled else "",
        call=_call(settings, "call_to_book", view.locale) if call_us else "",
        phone=settings.phone,
        calendar=appointment.is_active or cancelled,
        # T2: the same switch as STOP / START by text (None: the patient has no mobile number).
        sms_switch="" if sms_stopped is None else ("sms-start" if sms_stopped else "sms-stop"),
        sms_label=""
        if sms_stopped is None
        else (t["sms_start"] if sms_stopped else t["sms_stop"].format(practice=settings.name)),
        # F4: ask for an earlier time (None: no offers for this appointment).
        asap_switch="" if asap is None else ("asap-leave" if asap else "asap"),
        asap_text=t["asap_on"] if asap else "",
        asap_label="" if asap is None else (t["asap_leave"] if asap else t["asap_ask"]),
    )


def _asked(view: AppointmentView) -> str:
    asked = view.appointment.reschedule_requested_at
    if asked is None:
        return ""
    day = local_times(asked, view.settings.timezone, view.locale)["day_short"]
    return words(view.locale)["reschedule_requested_on"].format(practice=view.settings.name, day=day)


def _asking(template: str, title_key: str, view: AppointmentView, root: str, **values: Any) -> str:
    """A page that asks the patient something about one appointment (cancel it, another
    time): the appointment's card and the link's own forms."""
    return _render(
        template,
        view.locale,
        title=words(view.locale)[title_key],
        practice=view.settings.name,
        when=view.when,
        practitioner=view.appointment.practitioner,
        root=root,
        token=view.token,
        **values,
    )


def change_time_page(
    view: AppointmentView, root: str, chosen: dict[str, str], problem: tuple[str, str] | None = None
) -> str:
    """R4 (D22): the form asking the practice for another time; `problem` (field, word
    key) shows the form again with the patient's answers and what to fix."""
    from .services.reschedule_requests import DAYS, NOTE_LIMIT, TIMES

    t = words(view.locale)
    return _asking(
        "change_time",
        "change_time",
        view,
        root,
        days=DAYS,
        times=TIMES,
        chosen={"days": "any", "times": "any", "note": "", **chosen},
        limit=NOTE_LIMIT,
        error=t[f"change_problem_{problem[1]}"].format(limit=NOTE_LIMIT) if problem else "",
        error_field=problem[0] if problem else "",
    )


def cancel_page(view: AppointmentView, root: str) -> str:
    return _asking("cancel", "cancel_title", view, root)


def offer_page(
    view: AppointmentView, root: str, slot_id: str, slot_when: str | None, refusal: str | None, won: bool
) -> str:
    t = words(view.locale)
    if won:
        notice, warn = t["offer_won"], False
    elif refusal == "offer not found":
        notice, warn = t["offer_not_found"], True
    elif refusal:
        notice, warn = t["offer_gone"], True
    else:
        notice, warn = "", False
    open_offer = not won and not refusal
    return _render(
        "offer",
        view.locale,
        title=t["offer_title"],
        practice=view.settings.name,
        notice=notice,
        notice_warn=warn,
        offered_when=slot_when if open_offer else "",
        when=view.when,
        can_accept=open_offer,
        root=root,
        token=view.token,
        slot_id=slot_id,
    )


def recall_page(settings: PracticeSettings, locale: str, token: str, root: str) -> str:
    t = words(locale)
    return _render(
        "recall",
        locale,
        title=t["recall_title"],
        practice=settings.name,
        can_book=bool(settings.booking_url),
        phone=settings.phone,
        call=_call(settings, "call_to_book", locale),
        root=root,
        token=token,
    )


def error_page(locale: str, settings: PracticeSettings | None = None) -> str:
    """An unknown, malformed or expired link: what happened and a way forward; with the
    practice's name, booking page and phone when the link told us the practice."""
    t = words(locale)
    return _render(
        "error",
        locale,
        title=t["error_title"],
        message=t["error_gone"],
        practice=settings.name if settings else "",
        booking_url=settings.booking_url if settings else "",
        phone=settings.phone if settings else "",
    )


def group_page(view: GroupView, root: str, notice: str | None = None) -> str:
    """R11: a day's appointments of one number, each with its own page, confirm all."""
    t = words(view.locale)
    rows = []
    for member in view.members:
        appointment = member.view.appointment
        if appointment.is_active and not member.view.can_act:
            state = "state_past"
        else:
            state = f"state_{appointment.status.value}"
        rows.append(
            {
                "time": local_times(appointment.start, view.settings.timezone, view.locale)["time"],
                "name": member.first_name,
                "practitioner": appointment.practitioner,
                "state": t.get(state, ""),
                "token": member.view.token,
                "open": t["group_open"].format(name=member.first_name or appointment.appointment_type),
            }
        )
    return _render(
        "group",
        view.locale,
        title=t["group_title"],
        practice=view.settings.name,
        day=view.day,
        rows=rows,
        notice=t.get(f"notice_{notice}", "") if notice else "",
        can_confirm=view.can_confirm,
        root=root,
        token=view.token,
    )

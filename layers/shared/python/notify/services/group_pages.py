"""R11: the page of a day's grouped reminder (/g/{token}): every appointment it listed,
each with a way to its own page, and "confirm all". Opening it changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..adapters.link_keys import LinkKeys
from ..dal import practices as practice_store
from ..dal import reminder_groups as store
from ..dal.errors import NotFoundError
from ..domain.model import PracticeSettings
from ..domain.patient_link import token_digest
from .errors import LinkNotFoundError
from .patient_actions import AppointmentView, PatientAction, act_on, clean_token, view_of
from .reminder_groups import KEEP_GROUP


@dataclass(frozen=True)
class Member:
    view: AppointmentView  # with the appointment's own link token
    first_name: str


@dataclass(frozen=True)
class GroupView:
    token: str
    settings: PracticeSettings
    locale: str
    day: str
    members: tuple[Member, ...]

    @property
    def can_confirm(self) -> bool:
        return any(m.view.can_confirm for m in self.members)


def open_group(raw_token: str, links: LinkKeys, now: datetime) -> GroupView:
    token = clean_token(raw_token)
    group = store.find_group(token_digest(token))
    if group is None:
        raise LinkNotFoundError(token)
    try:
        settings = practice_store.get_practice(group.practice_id).settings
    except NotFoundError as exc:  # the practice left (D19)
        raise LinkNotFoundError(token) from exc
    day = date.fromisoformat(group.day)
    day_end = datetime.combine(day, time(0), ZoneInfo(settings.timezone)).astimezone(UTC) + timedelta(days=1)
    if now >= day_end + KEEP_GROUP:
        raise LinkNotFoundError(token, group.practice_id)
    members = []
    for appointment_id in group.appointment_ids:
        try:
            view = view_of(group.practice_id, appointment_id, "", now)
        except NotFoundError:
            continue
        appointment = view.appointment
        own = links.appointment_token(group.practice_id, appointment_id, appointment.link_generation)
        patient = practice_store.find_patient(group.practice_id, appointment.patient_id)
        first_name = (patient.name.split() or [""])[0] if patient else ""
        members.append(Member(replace(view, token=own), first_name))
    if not members:
        raise LinkNotFoundError(token, group.practice_id)
    locale = members[0].view.locale
    from babel.dates import format_date

    return GroupView(token, settings, locale, format_date(day, "EEEE d MMMM y", locale=locale), tuple(members))


def confirm_all(raw_token: str, links: LinkKeys, now: datetime) -> GroupView:
    """Confirm every appointment of the group that can still be confirmed (each as its
    own page would: R3, B6, K6 follow); repeating it changes nothing."""
    group = open_group(raw_token, links, now)
    for member in [m for m in group.members if m.view.can_confirm]:
        act_on(member.view, PatientAction.CONFIRM, now, via="patient link (day's group)")
    return open_group(raw_token, links, now)

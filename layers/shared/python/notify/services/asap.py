"""F4 from the patient's page: ask to be offered an earlier time if one frees up, or stop
asking. The practice sets the same with `appointment.asap`; a move takes the appointment
off the list (appointment_changes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..dal import appointments as appointment_store
from ..dal.errors import ConflictError
from ..domain.appointment_changes import AsapChange, apply_changes
from ..domain.event_order import ChangeStamp
from ..observability import logger, metrics
from .errors import ActionNotAllowedError
from .patient_actions import AppointmentView, open_link


def can_ask(view: AppointmentView) -> bool:
    return view.can_act and view.settings.offers_enabled


def set_asap(token: str, on: bool, now: datetime) -> AppointmentView:
    """On or off the ASAP list; repeating it changes nothing."""
    view = open_link(token, now)
    if not can_ask(view):
        raise ActionNotAllowedError("no earlier slots are offered for this appointment")
    for _ in range(3):
        current, revision = appointment_store.get_appointment(
            view.appointment.practice_id, view.appointment.appointment_id
        )
        if (current.asap_since is not None) == on:
            return replace(view, appointment=current)
        changed = apply_changes(current, (AsapChange(now if on else None),), ChangeStamp(now), now).appointment
        try:
            appointment_store.write_appointment(changed, revision, now)
        except ConflictError:
            continue
        metrics.add_metric(name="AsapJoined" if on else "AsapLeft", unit="Count", value=1)
        logger.info("asap list", appointment_id=current.appointment_id, on=on)
        return replace(view, appointment=changed)
    raise ActionNotAllowedError("appointment is being changed, try again")

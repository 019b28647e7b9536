"""R4 for every practice (D22): from the link page, a patient asks the practice for
another time, saying what suits them; the practice is told (`appointment.reschedule_requested`,
callback and API) and moves the appointment with `appointment.rescheduled` as always.

The appointment stays as it is until then: its reminders still go, but an unanswered
reminder's SMS does not (the patient answered, C1). Asking twice tells the practice once;
a move of the appointment ends the request, unless the patient asked after it (B9), and
so does the patient's own confirmation ("Keep my booked time") or cancellation, which
tells the practice (`appointment.reschedule_withdrawn`, patient_actions.act_on).
What the patient writes goes to the practice only: it is kept in the notice (7 days, P1
erases it), never on the appointment, never in a log.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from ..dal import appointments as appointment_store
from ..dal.callbacks import callback_item
from ..dal.errors import ConflictError
from ..domain.appointment_changes import RescheduleRequestChange, apply_changes
from ..domain.event_order import ChangeStamp
from ..observability import logger, metrics
from . import outcomes
from .errors import ActionNotAllowedError, FormProblemError
from .patient_actions import AppointmentView, open_link

# What the form offers (the page's words name them in the patient's language).
DAYS = ("any", "earlier", "later")
TIMES = ("any", "morning", "afternoon")
NOTE_LIMIT = 300


@dataclass(frozen=True)
class RescheduleRequest:
    """What suits the patient: a day earlier or later than booked, a time of day, a note."""

    days: str = "any"
    times: str = "any"
    note: str = ""

    @classmethod
    def from_form(cls, days: str, times: str, note: str) -> RescheduleRequest:
        """The form's values, checked; FormProblemError names the field."""
        for field, value, choices in (("days", days, DAYS), ("times", times, TIMES)):
            if value not in choices:
                raise FormProblemError(field, "choice", f"must be one of: {', '.join(choices)}")
        cleaned = _plain(note)
        if len(cleaned) > NOTE_LIMIT:
            raise FormProblemError("note", "too_long", f"at most {NOTE_LIMIT} characters")
        return cls(days, times, cleaned)


def _plain(text: str) -> str:
    """The note as text: line breaks kept, other control characters gone, trimmed."""
    kept = "".join(c for c in text if c in "\n" or not unicodedata.category(c).startswith("C"))
    return "\n".join(line.rstrip() for line in kept.replace("\r", "").split("\n")).strip()


def can_request(view: AppointmentView) -> bool:
    return view.can_act and view.settings.reschedule_requests


def request_reschedule(
    token: str, wanted: RescheduleRequest, now: datetime, via: str = "patient link"
) -> AppointmentView:
    """Tell the practice the patient wants another time; a repeat tells it nothing more."""
    view = open_link(token, now)
    if not can_request(view):
        raise ActionNotAllowedError("this appointment can no longer be changed here")
    appointment = view.appointment
    for _ in range(3):
        current, revision = appointment_store.get_appointment(appointment.practice_id, appointment.appointment_id)
        if current.reschedule_requested_at is not None:
            return replace(view, appointment=current)
        if not current.is_active:
            raise ActionNotAllowedError("appointment changed, reload the page")
        # The patient's request is a real-world change now (B9): a practice move about an
        # earlier moment, delivered late, does not end it.
        changed = apply_changes(current, (RescheduleRequestChange(now),), ChangeStamp(now), now).appointment
        notice = callback_item(
            current.practice_id,
            "appointment.reschedule_requested",
            {
                "appointment_id": current.appointment_id,
                "patient_id": current.patient_id,
                "start": current.start.isoformat(),
                "by": "patient",
                "via": via,
                "days": wanted.days,
                "times": wanted.times,
                "note": wanted.note,
            },
            now,
        )
        try:
            appointment_store.write_appointment(changed, revision, now, also=[notice])
        except ConflictError:
            continue
        metrics.add_metric(name="RescheduleRequested", unit="Count", value=1)
        outcomes.record(
            current.practice_id, current.calendar_id, view.settings.timezone, now, reschedule_requests=1
        )
        logger.info("reschedule requested", appointment_id=current.appointment_id)  # never the note
        return replace(view, appointment=changed)
    raise ActionNotAllowedError("appointment is being changed, try again")

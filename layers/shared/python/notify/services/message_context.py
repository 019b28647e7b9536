"""The variables every template gets, built in one place."""

from __future__ import annotations

from typing import Any

from ..domain.model import Appointment, FreedSlot, Patient, PracticeSettings, Recall
from ..domain.patient_link import link_url
from ..rendering import local_times


def template_context(
    appointment: Appointment,
    patient: Patient,
    settings: PracticeSettings,
    locale: str,
    base_url: str,
    token: str,
    slot: FreedSlot | None = None,
    reply: bool = False,
) -> dict[str, Any]:
    """`token` is the appointment's patient-link token (derived, never stored: P3)."""
    base = settings.link_base_url or base_url
    first_name = (patient.name.split() or [""])[0]
    offer: dict[str, Any] = {}
    if slot is not None:
        slot_times = local_times(slot.start, settings.timezone, locale)
        offer = {
            "slot_when": slot_times["when"],
            "slot_when_short": slot_times["when_short"],
            "offer_link": f"{link_url(base, token)}/offer/{slot.slot_id}",
        }
    return {
        **offer,
        # T1: the SMS invites an answer by digit (our sender is a number that takes replies).
        "reply": reply,
        "practice": settings.name,
        "practitioner": appointment.practitioner,
        "first_name": first_name,
        "appointment_type": appointment.appointment_type,
        "link": link_url(base, token),
        "confirm_link": link_url(base, token, "confirm"),
        "cancel_link": link_url(base, token, "cancel"),
        "reschedule_link": link_url(base, token, "reschedule"),
        "booking_link": settings.booking_url,
        "review_link": settings.review_url,
        "instructions": settings.after_booking_instructions,
        # K2: the practice's own content in the confirmation of a recall booking.
        "from_recall": bool(appointment.recall_id),
        "map_url": settings.map_url,
        "parking_info": settings.parking_info,
        "practitioner_photo_url": settings.practitioner_photo_url,
        **local_times(appointment.start, settings.timezone, locale),
    }


def recall_context(recall: Recall, patient: Patient, settings: PracticeSettings, link: str) -> dict[str, Any]:
    """A recall's variables: its tracked link stands in for the booking page (K2)."""
    return {
        "practice": settings.name,
        "first_name": (patient.name.split() or [""])[0],
        "recall_type": recall.recall_type.replace("_", " ").replace("-", " "),
        "category": recall.category.value,
        "booking_link": link,
        "link": link,
    }

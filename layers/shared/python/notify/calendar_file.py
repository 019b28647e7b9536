"""R12: the appointment as an iCalendar file (RFC 5545), built with `icalendar`.

DTSTART and DTEND carry the practice's zone (TZID, with its VTIMEZONE), so calendar
apps show the local time across DST. The UID is stable per appointment; SEQUENCE rises
with every reschedule (and once more when cancelled); a cancelled appointment is
STATUS:CANCELLED with METHOD:CANCEL, so an imported event is removed or struck out.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from .domain.model import Appointment, AppointmentStatus, PracticeSettings

PRODUCT = "-//Patient notifications//Appointment//EN"


def uid(appointment: Appointment) -> str:
    return f"{appointment.practice_id}.{appointment.appointment_id}@patient-notify"


def sequence(appointment: Appointment) -> int:
    cancelled = appointment.status is AppointmentStatus.CANCELLED
    return appointment.version - 1 + int(cancelled)


def appointment_ics(appointment: Appointment, settings: PracticeSettings, link: str, now: datetime) -> bytes:
    zone = ZoneInfo(settings.timezone)
    cancelled = appointment.status is AppointmentStatus.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", sequence(appointment))
    event.add("dtstamp", now)
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    title = " · ".join(p for p in (settings.name, appointment.appointment_type) if p)
    event.add("summary", title or "Appointment")
    if appointment.practitioner:
        event.add("description", f"{appointment.practitioner}\n{link}")
    else:
        event.add("description", link)
    event.add("location", settings.name)
    event.add("url", link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())

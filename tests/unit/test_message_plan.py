"""R1, R3, R5, R7, R9: which messages a change causes and which are still valid."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from notify.domain.message_plan import (
    schedule_name,
    settled_messages,
    staleness_reason,
    timed_messages,
)
from notify.domain.model import (
    Actor,
    Appointment,
    AppointmentStatus,
    BookingSource,
    MessageKind,
    PracticeSettings,
)

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
APPT = Appointment(
    "p1", "a1", "pat1", start=NOW + timedelta(days=5), end=NOW + timedelta(days=5, minutes=30), booked_at=NOW
)
SETTINGS = PracticeSettings(timezone="Europe/Warsaw", review_url="https://r", booking_url="https://b")


def test_r1_a_new_appointment_gets_a_confirmation_once_settled():
    assert settled_messages(None, APPT) == [MessageKind.CONFIRMATION]
    assert settled_messages(APPT.snapshot(), APPT) == []


def test_r3_reschedule_sends_a_notice_and_replans_the_reminder_under_a_new_name():
    moved = replace(APPT, start=APPT.start + timedelta(days=1), version=2)
    assert settled_messages(APPT.snapshot(), moved) == [MessageKind.RESCHEDULE]
    old = schedule_name("p1", "a1", MessageKind.REMINDER, 1)
    new = schedule_name("p1", "a1", MessageKind.REMINDER, 2)
    assert old != new


def test_r3_message_for_an_old_version_is_stale():
    moved = replace(APPT, version=2)
    assert staleness_reason(MessageKind.REMINDER, 1, moved) == "appointment was rescheduled"


def test_r3_reminder_for_a_cancelled_appointment_is_stale():
    cancelled = replace(APPT, status=AppointmentStatus.CANCELLED)
    assert staleness_reason(MessageKind.REMINDER, 1, cancelled) == "appointment is cancelled"
    assert timed_messages(cancelled, SETTINGS) == []


def test_r5_practice_cancellation_sends_a_notice_patient_cancellation_does_not():
    by_practice = replace(APPT, status=AppointmentStatus.CANCELLED, cancelled_by=Actor.PRACTICE)
    by_patient = replace(APPT, status=AppointmentStatus.CANCELLED, cancelled_by=Actor.PATIENT)
    assert settled_messages(APPT.snapshot(), by_practice) == [MessageKind.CANCELLATION]
    assert settled_messages(APPT.snapshot(), by_patient) == []


def test_r7_review_request_2h_after_an_attended_app_booking():
    attended = replace(
        APPT,
        status=AppointmentStatus.ATTENDED,
        source=BookingSource.APP,
        end=datetime(2026, 5, 9, 10, 0, tzinfo=UTC),
    )
    kinds = {p.kind: p.due_at for p in timed_messages(attended, SETTINGS)}
    assert kinds[MessageKind.REVIEW_REQUEST] == attended.end + timedelta(hours=2)


def test_r7_no_review_request_for_practice_bookings_unless_enabled():
    attended = replace(APPT, status=AppointmentStatus.ATTENDED, source=BookingSource.PRACTICE)
    kinds = [p.kind for p in timed_messages(attended, SETTINGS)]
    assert MessageKind.REVIEW_REQUEST not in kinds
    enabled = [p.kind for p in timed_messages(attended, SETTINGS, True)]
    assert MessageKind.REVIEW_REQUEST in enabled


def test_r9_switched_off_appointment_plans_and_sends_nothing():
    off = replace(APPT, notifications_enabled=False)
    assert settled_messages(None, off) == []
    assert timed_messages(off, SETTINGS) == []
    assert staleness_reason(MessageKind.REMINDER, 1, off) is not None


def test_r3_schedule_names_are_short_and_safe_for_long_ids():
    name = schedule_name("p" * 60, "a" * 60, MessageKind.REBOOKING_PROMPT, 12)
    assert len(name) <= 64
    assert all(c.isalnum() or c in "-_." for c in name)

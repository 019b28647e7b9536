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


def test_r10_an_offset_applies_when_the_lead_is_at_least_one_and_a_half_times_it():
    from notify.domain.reminder_timing import reminders_due

    start = NOW + timedelta(days=10)
    for lead_hours, expected in (
        (240, [48, 2]),  # 168h needs 252h of lead
        (252, [168, 48, 2]),
        (100, [48, 2]),
        (72, [48, 2]),
        (71, [2]),
        (3, [2]),
        (2.9, []),
    ):
        due = reminders_due(start, start - timedelta(hours=lead_hours), (2, 48, 168, 48))
        assert [h for h, _ in due] == expected, lead_hours
        assert all(at == start - timedelta(hours=h) for h, at in due)


def test_r10_r2_is_the_rule_with_one_offset():
    from notify.domain.reminder_timing import reminder_due_at, reminders_due

    start = NOW + timedelta(days=10)
    for lead_hours in (30, 36, 50, 72, 73, 200):
        booked = start - timedelta(hours=lead_hours)
        r2 = reminder_due_at(start, booked)
        offset = 48 if lead_hours > 72 else 24
        assert r2 == dict(reminders_due(start, booked, (offset,))).get(offset), lead_hours


def test_r10_several_reminders_each_have_their_own_message_and_schedule():
    from notify.contracts import SendRequest
    from notify.domain.message_ids import MessageId

    settings = replace(SETTINGS, reminder_offsets_hours=(72, 24))
    planned = timed_messages(APPT, settings)
    assert [(p.kind, p.offset_hours) for p in planned] == [(MessageKind.REMINDER, 72), (MessageKind.REMINDER, 24)]
    ids = {
        SendRequest.for_appointment("p1", "a1", p.kind, 1, offset_hours=p.offset_hours).message_id for p in planned
    }
    assert ids == {"a1#reminder#v1#72h", "a1#reminder#v1#24h"}
    assert {MessageId.parse(i).offset_hours for i in ids} == {72, 24}
    names = {schedule_name("p1", "a1", p.kind, 1, p.offset_hours) for p in planned}
    assert len(names) == 2
    confirmed = replace(APPT, status=AppointmentStatus.CONFIRMED)
    assert len(timed_messages(confirmed, settings)) == 2
    assert timed_messages(confirmed, replace(settings, remind_after_confirmation=False)) == []

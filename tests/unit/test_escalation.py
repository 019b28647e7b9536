"""C1 (2h SMS follow-up), C2 (no-fallback types), R6 (4h), B2 (quiet hours)."""

from datetime import UTC, datetime, timedelta

from notify.domain.escalation import escalation_at
from notify.domain.model import Appointment, BookingSource, MessageKind, PracticeSettings

SENT = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # 11:00 in Warsaw
SETTINGS = PracticeSettings(timezone="Europe/Warsaw")


def appt(kind: str = "Checkup", source: BookingSource = BookingSource.APP) -> Appointment:
    return Appointment(
        "p1",
        "a1",
        "pat1",
        SENT + timedelta(days=2),
        SENT + timedelta(days=2, hours=1),
        SENT - timedelta(days=3),
        appointment_type=kind,
        source=source,
    )


def test_c1_unanswered_reminder_push_escalates_after_2h():
    assert escalation_at(MessageKind.REMINDER, appt(), SETTINGS, SENT) == SENT + timedelta(hours=2)


def test_c1_fallback_delay_is_a_practice_setting():
    custom = PracticeSettings(timezone="Europe/Warsaw", push_fallback_minutes=45)
    assert escalation_at(MessageKind.REMINDER, appt(), custom, SENT) == SENT + timedelta(minutes=45)


def test_c2_covid_vaccine_never_gets_the_follow_up_sms():
    assert escalation_at(MessageKind.REMINDER, appt("COVID-19 vaccine"), SETTINGS, SENT) is None
    assert escalation_at(MessageKind.REMINDER, appt("covid-19 VACCINE"), SETTINGS, SENT) is None


def test_c2_no_fallback_list_is_per_practice():
    custom = PracticeSettings(timezone="Europe/Warsaw", no_fallback_types=("Flu shot",))
    assert escalation_at(MessageKind.REMINDER, appt("Flu shot"), custom, SENT) is None
    assert escalation_at(MessageKind.REMINDER, appt("COVID-19 vaccine"), custom, SENT) is not None


def test_r6_practice_reschedule_notice_escalates_after_4h():
    at = escalation_at(MessageKind.RESCHEDULE, appt(source=BookingSource.PRACTICE), SETTINGS, SENT)
    assert at == SENT + timedelta(hours=4)


def test_c1_confirmations_do_not_escalate():
    assert escalation_at(MessageKind.CONFIRMATION, appt(), SETTINGS, SENT) is None


def test_b2_escalation_falling_in_quiet_hours_waits_for_the_morning():
    late = datetime(2026, 5, 4, 18, 30, tzinfo=UTC)  # 20:30 Warsaw, +2h = 22:30
    at = escalation_at(MessageKind.REMINDER, appt(), SETTINGS, late)
    assert at == datetime(2026, 5, 5, 6, 0, tzinfo=UTC)  # 08:00 Warsaw

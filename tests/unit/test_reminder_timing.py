"""R2 reminder timing, B1 exact offsets across DST."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notify.domain.model import ReminderPolicy
from notify.domain.reminder_timing import reminder_due_at

START = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)


def test_r2_lead_over_72h_reminds_48h_before():
    assert reminder_due_at(START, START - timedelta(hours=73)) == START - timedelta(hours=48)


def test_r2_lead_exactly_72h_reminds_24h_before():
    assert reminder_due_at(START, START - timedelta(hours=72)) == START - timedelta(hours=24)


def test_r2_booked_50h_ahead_reminds_24h_before():
    assert reminder_due_at(START, START - timedelta(hours=50)) == START - timedelta(hours=24)


def test_r2_lead_exactly_36h_reminds_24h_before():
    assert reminder_due_at(START, START - timedelta(hours=36)) == START - timedelta(hours=24)


def test_r2_lead_under_36h_gets_no_reminder():
    assert reminder_due_at(START, START - timedelta(hours=35, minutes=59)) is None


def test_r2_fixed_policy_reminds_at_the_practice_offset():
    due = reminder_due_at(START, START - timedelta(days=10), ReminderPolicy.FIXED, 24)
    assert due == START - timedelta(hours=24)


def test_r2_fixed_policy_skips_a_reminder_before_the_booking():
    assert reminder_due_at(START, START - timedelta(hours=20), ReminderPolicy.FIXED, 24) is None


@given(
    lead_minutes=st.integers(min_value=0, max_value=60 * 24 * 60),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
)
def test_r2_reminder_is_one_of_the_two_offsets_and_after_booking(lead_minutes, start):
    booked = start - timedelta(minutes=lead_minutes)
    due = reminder_due_at(start, booked)
    lead = timedelta(minutes=lead_minutes)
    if lead < timedelta(hours=36):
        assert due is None
    else:
        assert start - due in (timedelta(hours=24), timedelta(hours=48))
        assert due >= booked + timedelta(hours=12)
        assert (start - due == timedelta(hours=48)) == (lead > timedelta(hours=72))


@given(
    zone=st.sampled_from(["Europe/Warsaw", "Australia/Sydney", "Europe/Paris"]),
    day=st.sampled_from(
        [
            datetime(2026, 3, 29),
            datetime(2026, 10, 25),
            datetime(2027, 3, 28),
            datetime(2027, 10, 31),
            datetime(2026, 4, 5),
            datetime(2026, 10, 4),
            datetime(2027, 4, 4),
            datetime(2027, 10, 3),
        ]
    ),
    hour=st.integers(min_value=7, max_value=19),
)
def test_b1_offsets_are_exact_durations_across_dst(zone, day, hour):
    """A 48h reminder is 48 real hours before, even when the wall clock shifted by 1h."""
    start = day.replace(hour=hour, tzinfo=ZoneInfo(zone)) + timedelta(days=1)
    due = reminder_due_at(start, start - timedelta(days=7))
    assert start.astimezone(UTC) - due.astimezone(UTC) == timedelta(hours=48)


def test_b1_48h_before_a_monday_after_spring_dst_is_8am_saturday_local():
    start = datetime(2026, 3, 30, 9, 0, tzinfo=ZoneInfo("Europe/Warsaw"))  # CEST
    due = reminder_due_at(start, start - timedelta(days=6))
    assert due.astimezone(ZoneInfo("Europe/Warsaw")).hour == 8  # Saturday is still CET

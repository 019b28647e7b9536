"""Issue 16: reminders, review requests and rebooking prompts spread over Scheduler's flexible
time window (B2's 08:00 wave, and the quarter hours every practice shares, over an hour
instead of one second); escalations, notices and offers keep their exact time."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notify.adapters.scheduler import LAST_RETRY_AFTER, flexible_window, run_its_course
from notify.domain.message_plan import SPREAD, spread_minutes, timed_messages
from notify.domain.model import Appointment, AppointmentStatus, BookingSource, MessageKind, PracticeSettings
from notify.domain.quiet_hours import defer_out_of_quiet_hours

APP = BookingSource.APP

WAW = ZoneInfo("Europe/Warsaw")
SETTINGS = PracticeSettings(timezone="Europe/Warsaw")


def _appointment(start: datetime, booked: datetime) -> Appointment:
    return Appointment("p", "a", "x", start, start + timedelta(minutes=20), booked)


def test_b2_reminder_held_by_quiet_hours_spreads_over_the_hour_after_0800():
    # Booked 4 days ahead for 07:30: the 48h reminder would leave at 07:30, in quiet hours.
    start = datetime(2026, 5, 14, 7, 30, tzinfo=WAW)
    [reminder] = timed_messages(_appointment(start, start - timedelta(days=4)), SETTINGS)
    assert reminder.due_at == datetime(2026, 5, 12, 8, 0, tzinfo=WAW)  # 07:30 was quiet
    assert reminder.window_minutes == 60


def test_b2_reminder_window_stops_where_quiet_hours_begin():
    due = datetime(2026, 5, 12, 20, 35, tzinfo=WAW)
    assert spread_minutes(due, due + timedelta(hours=48), SETTINGS) == 24  # 20:59 at the latest


def test_r2_reminder_window_is_at_most_a_quarter_of_the_time_left():
    due = datetime(2026, 5, 12, 10, 0, tzinfo=WAW)
    assert spread_minutes(due, due + timedelta(hours=2), SETTINGS) == 30


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
    st.sampled_from(["Europe/Warsaw", "Australia/Sydney", "America/New_York", "Europe/London"]),
    st.integers(min_value=36, max_value=400),
)
def test_b2_no_moment_of_a_reminder_window_is_in_quiet_hours(naive, zone, lead_hours):
    settings = PracticeSettings(timezone=zone)
    booked = naive.replace(tzinfo=UTC)
    start = booked + timedelta(hours=lead_hours)
    for planned in timed_messages(_appointment(start, booked), settings):
        assert 0 <= planned.window_minutes <= SPREAD.total_seconds() // 60
        for minute in range(0, planned.window_minutes + 1, 5):
            moment = planned.due_at + timedelta(minutes=minute)
            assert defer_out_of_quiet_hours(moment, zone) == moment
        assert planned.due_at + timedelta(minutes=planned.window_minutes) < start


def test_c1_only_reminders_get_a_window_and_scheduler_gets_it_as_flexible():
    assert flexible_window(0) == {"Mode": "OFF"}
    assert flexible_window(45) == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 45}
    quiet_off = PracticeSettings(timezone="Europe/Warsaw", quiet_start=time(0, 0), quiet_end=time(0, 0))
    start = datetime(2026, 5, 14, 12, 0, tzinfo=WAW)
    planned = timed_messages(_appointment(start, start - timedelta(days=5)), quiet_off)
    assert [(p.kind, p.window_minutes) for p in planned] == [(MessageKind.REMINDER, 60)]


def test_r7_review_request_after_a_visit_spreads_too_but_not_into_quiet_hours():
    settings = PracticeSettings(
        timezone="Europe/Warsaw", review_url="https://g.page/r/x", booking_url="https://b.x"
    )
    start = datetime(2026, 5, 12, 10, 0, tzinfo=WAW)
    visit = Appointment("p", "a", "x", start, start + timedelta(minutes=20), start - timedelta(days=3), source=APP)
    attended = timed_messages(replace(visit, status=AppointmentStatus.ATTENDED), settings)
    windows = {p.kind: p.window_minutes for p in attended}
    assert windows[MessageKind.REVIEW_REQUEST] == 60  # 12:20-13:20 local
    late = datetime(2026, 5, 12, 18, 30, tzinfo=WAW)  # review due 20:50: ten minutes to quiet hours
    evening = Appointment("p", "b", "x", late, late + timedelta(minutes=20), late - timedelta(days=3), source=APP)
    planned = timed_messages(replace(evening, status=AppointmentStatus.ATTENDED), settings)
    assert {p.kind: p.window_minutes for p in planned}[MessageKind.REVIEW_REQUEST] == 9


def test_r3_a_schedule_past_its_window_and_retries_is_not_withdrawn():
    """Issue 16: a reminder Scheduler has invoked for the last time (its flexible window,
    then its retries, B8) is gone and its row closed by its send: a later change of the
    appointment withdraws nothing (no DeleteSchedule, no ledger write). Until then, with an
    hour to spare, it is withdrawn as before."""
    due = datetime(2026, 5, 12, 8, 0, tzinfo=WAW)
    last = due + timedelta(minutes=60) + LAST_RETRY_AFTER
    assert not run_its_course(due, 60, last)
    assert not run_its_course(due, 60, last + LAST_RETRY_AFTER - timedelta(seconds=1))
    assert run_its_course(due, 60, last + LAST_RETRY_AFTER)
    assert run_its_course(due, 0, due + 2 * LAST_RETRY_AFTER) and not run_its_course(
        due, 1, due + 2 * LAST_RETRY_AFTER
    )

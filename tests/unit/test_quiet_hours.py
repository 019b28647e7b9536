"""B2 quiet hours, in the practice's zone, across DST (B1)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notify.domain.quiet_hours import defer_out_of_quiet_hours

WAW = ZoneInfo("Europe/Warsaw")


def test_b2_message_at_2230_local_waits_until_0800_next_day():
    moment = datetime(2026, 5, 12, 22, 30, tzinfo=WAW)
    assert defer_out_of_quiet_hours(moment, "Europe/Warsaw") == datetime(2026, 5, 13, 8, 0, tzinfo=WAW)


def test_b2_message_at_0630_local_waits_until_0800_same_day():
    moment = datetime(2026, 5, 12, 6, 30, tzinfo=WAW)
    assert defer_out_of_quiet_hours(moment, "Europe/Warsaw") == datetime(2026, 5, 12, 8, 0, tzinfo=WAW)


def test_b2_daytime_message_is_not_moved():
    moment = datetime(2026, 5, 12, 14, 0, tzinfo=WAW)
    assert defer_out_of_quiet_hours(moment, "Europe/Warsaw") == moment


def test_b2_quiet_hours_end_is_8am_local_on_the_dst_night():
    moment = datetime(2026, 3, 28, 23, 0, tzinfo=WAW)  # DST starts 29 Mar 02:00
    resumed = defer_out_of_quiet_hours(moment, "Europe/Warsaw")
    assert resumed.astimezone(WAW).replace(tzinfo=None) == datetime(2026, 3, 29, 8, 0)
    assert resumed.tzinfo == UTC


def test_b2_sydney_quiet_hours_across_april_dst_end():
    syd = ZoneInfo("Australia/Sydney")
    moment = datetime(2026, 4, 4, 21, 30, tzinfo=syd)  # DST ends 5 Apr 03:00
    resumed = defer_out_of_quiet_hours(moment, "Australia/Sydney")
    assert resumed.astimezone(syd).replace(tzinfo=None) == datetime(2026, 4, 5, 8, 0)


@given(
    moment=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(["Europe/Warsaw", "Australia/Sydney", "Europe/Paris"]),
)
def test_b2_deferred_time_is_outside_quiet_hours_and_within_11h(moment, zone):
    resumed = defer_out_of_quiet_hours(moment, zone)
    local = resumed.astimezone(ZoneInfo(zone)).time()
    assert time(8, 0) <= local < time(21, 0)
    assert timedelta(0) <= resumed - moment <= timedelta(hours=12)

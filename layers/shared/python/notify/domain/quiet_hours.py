"""Quiet hours (B2): automated messages falling inside are deferred to their end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _inside(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def defer_out_of_quiet_hours(
    moment: datetime, timezone: str, start: time = time(21, 0), end: time = time(8, 0)
) -> datetime:
    """Return `moment` or, if it falls in the practice's quiet hours, the end of them (UTC).

    Args:
        moment: aware datetime of the planned send.
        timezone: the practice's IANA zone; quiet hours are local wall-clock times.
        start, end: quiet hours, which may wrap midnight (21:00-08:00).
    """
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    if not _inside(local.timetz().replace(tzinfo=None), start, end):
        return moment
    day = local.date()
    if start > end and local.time() >= start:
        day += timedelta(days=1)
    # Wall-clock end of quiet hours on that day; fold=0 picks the first of a repeated hour.
    resume = datetime.combine(day, end, tzinfo=zone)
    return resume.astimezone(UTC)

"""K6 usage statistics: per practice, per feature, per practice-local day, read by the
practice API from the counters A1 keeps too (one item per day and calendar, written by
`outcomes.record`), and one CloudWatch metric per feature (`Usage_<feature>`, across
practices: a per-practice dimension would cost a custom metric per practice and feature;
the per-practice figures are the API's).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..dal import outcomes as store


def local_day(now: datetime, timezone: str) -> str:
    return now.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")


def usage(practice_id: str, first_day: str, last_day: str) -> dict[str, object]:
    days = store.usage_days(practice_id, first_day, last_day)
    totals = {f: sum(int(d[f]) for d in days) for f in store.USAGE_FEATURES}
    return {"from": first_day, "to": last_day, "days": days, "totals": totals}

"""K6 usage statistics: per practice, per feature, per practice-local day, kept in the
table (the practice API reads them), and one CloudWatch metric per feature
(`Usage_<feature>`, across practices: a per-practice dimension would cost a custom metric
per practice and feature; the per-practice figures are the API's).

Counters are only bumped by the step that won its conditional write (the ledger claim,
the slot take, the link action, the event marker), so a redelivery never counts twice.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..dal import recalls as store
from ..observability import metrics


def local_day(now: datetime, timezone: str) -> str:
    return now.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")


def record(practice_id: str, timezone: str, now: datetime, **increments: int) -> None:
    store.count(practice_id, local_day(now, timezone), **increments)
    for feature, value in increments.items():
        if value:
            metrics.add_metric(name=f"Usage_{feature}", unit="Count", value=value)


def usage(practice_id: str, first_day: str, last_day: str) -> dict[str, object]:
    days = store.statistics(practice_id, first_day, last_day)
    totals = {f: sum(int(d[f]) for d in days) for f in store.STAT_FEATURES}
    return {"from": first_day, "to": last_day, "days": days, "totals": totals}

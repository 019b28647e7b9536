"""A1 outcome statistics and K6 usage: what the messages achieved and what each feature
was used for, per practice, calendar and practice-local day (the day it happened),
counted once each by the step that won its conditional write (the event marker, the link
action, the ledger claim, the slot take), so a repeated delivery never counts twice. A
step that counts for both makes one update: K6's confirmations, cancellations and offers
claimed are A1's own counters, read, not kept twice. The operator sees totals across
practices as CloudWatch metrics (`Outcome_<feature>` and `Usage_<feature>`, no
per-practice dimension: that would be a custom metric per practice); the per-practice
figures are the API's.

Rates over a range (None when the denominator is 0):
- confirmation_rate: confirmations (link, SMS answer, app) / appointments booked;
- patient_cancellation_rate: cancellations by the patient from our messages / booked;
- no_show_rate: no-shows / (attended + no-shows);
- fill_rate: freed slots filled / freed slots offered; minutes to fill, median and p90;
- sms_parts_per_appointment: SMS parts of appointment messages / booked;
- escalation_rate: reminders escalated to SMS / reminders sent by push.
"""

from __future__ import annotations

from datetime import datetime
from statistics import median, quantiles
from typing import Any

from ..dal import outcomes as store
from ..domain.model import DEFAULT_CALENDAR
from ..observability import metrics
from .statistics import local_day

# How a patient confirmed, from the path they took (patient_actions' `via`).
CONFIRMED_VIA = {"sms reply": "confirmed_sms", "app": "confirmed_app"}


# The metrics a stored counter adds to: A1's own, and the K6 figures made of it.
METRICS: dict[str, tuple[str, ...]] = {
    counter: tuple(
        [f"Outcome_{counter}"] * (counter in store.FEATURES)
        + [f"Usage_{usage}" for usage, parts in store.USAGE_FROM.items() if counter in parts]
    )
    for counter in store.FEATURES + store.USAGE_ONLY
}


def record(
    practice_id: str,
    calendar_id: str | None,
    timezone: str,
    now: datetime,
    fill_minutes: float | None = None,
    **increments: int,
) -> None:
    """One update of the day's counters of `calendar_id` (None: what belongs to no
    appointment, kept under the default calendar)."""
    day = local_day(now, timezone)
    store.count(practice_id, day, calendar_id or DEFAULT_CALENDAR, fill_minutes, **increments)
    for counter, value in increments.items():
        if value:
            for name in METRICS[counter]:
                metrics.add_metric(name=name, unit="Count", value=value)


def confirmed(practice_id: str, calendar_id: str, timezone: str, now: datetime, via: str) -> None:
    record(practice_id, calendar_id, timezone, now, **{CONFIRMED_VIA.get(via, "confirmed_link"): 1})


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def report(practice_id: str, first_day: str, last_day: str, calendar_id: str | None) -> dict[str, Any]:
    rows = store.days(practice_id, first_day, last_day, calendar_id)
    totals: dict[str, Any] = {f: sum(r[f] for r in rows) for f in store.FEATURES}
    fills = sorted(m for r in rows for m in r["fill_minutes"])
    confirmations = totals["confirmed_link"] + totals["confirmed_sms"] + totals["confirmed_app"]
    totals |= {
        "confirmations": confirmations,
        "confirmation_rate": _rate(confirmations, totals["booked"]),
        "patient_cancellation_rate": _rate(totals["cancelled_by_patient"], totals["booked"]),
        "no_show_rate": _rate(totals["no_shows"], totals["attended"] + totals["no_shows"]),
        "fill_rate": _rate(totals["slots_filled"], totals["slots_offered"]),
        "median_minutes_to_fill": median(fills) if fills else None,
        "p90_minutes_to_fill": _p90(fills),
        "sms_parts_per_appointment": _rate(totals["sms_parts"], totals["booked"]),
        "escalation_rate": _rate(totals["escalations"], totals["reminders_pushed"]),
    }
    return {"from": first_day, "to": last_day, "calendar_id": calendar_id, "days": rows, "totals": totals}


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return round(quantiles(values, n=10, method="inclusive")[-1], 1)

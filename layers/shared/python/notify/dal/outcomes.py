"""The practice's counters in the table, A1 outcomes and K6 usage in one item per
practice, local day and calendar: a step that counts for both makes one update."""

from __future__ import annotations

from typing import Any

from . import keys
from .models import NotifyItem, OutcomeItem

FEATURES = (  # A1
    "booked",
    "reminders",
    "reminders_pushed",
    "escalations",
    "confirmed_link",
    "confirmed_sms",
    "confirmed_app",
    "cancelled_by_patient",
    "attended",
    "no_shows",
    "slots_offered",
    "slots_filled",
    "sms_parts",
)
# K6's own counters; the rest of K6 is read from A1's (USAGE_FROM).
USAGE_ONLY = (
    "recalls_sent_push",
    "recalls_sent_sms",
    "recalls_sent_email",
    "recall_bookings",
    "offers_sent",
    "other_sms_parts",
    "reschedule_requests",
)
# K6's figures, each the sum of the stored counters it is made of.
USAGE_FROM: dict[str, tuple[str, ...]] = {
    "recalls_sent_push": ("recalls_sent_push",),
    "recalls_sent_sms": ("recalls_sent_sms",),
    "recalls_sent_email": ("recalls_sent_email",),
    "recall_bookings": ("recall_bookings",),
    "offers_sent": ("offers_sent",),
    "reschedule_requests": ("reschedule_requests",),
    "offers_claimed": ("slots_filled",),
    "confirmations": ("confirmed_link", "confirmed_sms", "confirmed_app"),
    "cancellations": ("cancelled_by_patient",),
    "sms_parts": ("sms_parts", "other_sms_parts"),  # every SMS part, not only appointments'
}
USAGE_FEATURES = tuple(USAGE_FROM)


def count(
    practice_id: str, day: str, calendar_id: str, fill_minutes: float | None = None, **increments: int
) -> None:
    """Add to the counters (and a time to fill) in one atomic update."""
    actions: list[Any] = [getattr(OutcomeItem, name).add(value) for name, value in increments.items() if value]
    if fill_minutes is not None:
        minutes = (OutcomeItem.fill_minutes | []).append([round(fill_minutes, 1)])  # if_not_exists
        actions.append(OutcomeItem.fill_minutes.set(minutes))
    if actions:
        item = OutcomeItem(*OutcomeItem.key(practice_id, day, calendar_id))
        item.update(actions=[*actions, OutcomeItem.entity.set(OutcomeItem)])


def _rows(practice_id: str, first_day: str, last_day: str) -> list[tuple[str, str, OutcomeItem]]:
    pk = keys.outcomes(practice_id, "", "")[0]
    rows = []
    for item in OutcomeItem.query(pk, NotifyItem.sk.between(f"{first_day}#", f"{last_day}#\uffff")):
        if isinstance(item, OutcomeItem):
            day, calendar = item.sk.split("#", 1)
            rows.append((day, calendar, item))
    return rows


def _counts(item: OutcomeItem, names: tuple[str, ...]) -> dict[str, int]:
    return {f: int(getattr(item, f) or 0) for f in names}


def days(practice_id: str, first_day: str, last_day: str, calendar_id: str | None) -> list[dict[str, Any]]:
    """A1: every (day, calendar) row in [first_day, last_day] with an outcome, of one
    calendar or all."""
    rows = []
    for day, calendar, item in _rows(practice_id, first_day, last_day):
        if calendar_id is not None and calendar != calendar_id:
            continue
        counts = _counts(item, FEATURES)
        fills = list(item.fill_minutes or [])
        if any(counts.values()) or fills:
            rows.append({"day": day, "calendar_id": calendar, **counts, "fill_minutes": fills})
    return rows


def usage_days(practice_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """K6: every day in [first_day, last_day] with a use, all calendars summed."""
    by_day: dict[str, dict[str, int]] = {}
    for day, _, item in _rows(practice_id, first_day, last_day):
        stored = _counts(item, FEATURES + USAGE_ONLY)
        totals = by_day.setdefault(day, dict.fromkeys(USAGE_FEATURES, 0))
        for feature, parts in USAGE_FROM.items():
            totals[feature] += sum(stored[p] for p in parts)
    return [{"day": day, **totals} for day, totals in sorted(by_day.items()) if any(totals.values())]

"""A1 outcome counters in the table: one item per practice, local day and calendar."""

from __future__ import annotations

from typing import Any

from . import keys
from .models import NotifyItem, OutcomeItem

FEATURES = (
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


def days(practice_id: str, first_day: str, last_day: str, calendar_id: str | None) -> list[dict[str, Any]]:
    """Every (day, calendar) row in [first_day, last_day], of one calendar or all."""
    pk = keys.outcomes(practice_id, "", "")[0]
    rows = []
    for item in OutcomeItem.query(pk, NotifyItem.sk.between(f"{first_day}#", f"{last_day}#\uffff")):
        if not isinstance(item, OutcomeItem):
            continue
        day, calendar = item.sk.split("#", 1)
        if calendar_id is not None and calendar != calendar_id:
            continue
        counts = {f: int(getattr(item, f) or 0) for f in FEATURES}
        rows.append({"day": day, "calendar_id": calendar, **counts, "fill_minutes": list(item.fill_minutes or [])})
    return rows

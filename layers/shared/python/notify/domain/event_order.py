"""Events arrive late, twice and out of order (B9): the latest real-world change wins.

Each practice event carries when it happened (`occurred_at`) and, optionally, the PMS's
own sequence number. An appointment has aspects that changes set independently:

- `time`: start and end (set by `created`, `rescheduled`);
- `status`: booked / cancelled / attended / no-show (set by `created`, `cancelled`,
  `attended`, `no_show`);
- `notifications`: the per-appointment switch (set by `created`, `notifications`);
- `asap`: on the ASAP list or not (F4: `asap`, the patient's page);
- `reschedule_request`: the patient asked for another time (R4, D22: the page).

A move ends the last two when it is not older than them: the patient got a new time.

Per aspect the item keeps the stamp of the change it last applied; a change applies to
an aspect only if its stamp is not older. With that rule the final state is the same in
whatever order the deliveries come (the changes commute), which the shuffled B4 drill
checks. A change older than every aspect it touches is stale: acknowledged, recorded,
without effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Aspect(StrEnum):
    TIME = "time"
    STATUS = "status"
    NOTIFICATIONS = "notifications"
    ASAP = "asap"
    RESCHEDULE_REQUEST = "reschedule_request"


@dataclass(frozen=True, order=True)
class ChangeStamp:
    """When a change happened in the practice's system; compares like real time, then by
    the PMS's sequence number (0 when it sends none)."""

    occurred_at: datetime
    sequence: int = 0

    @property
    def key(self) -> str:
        """Sortable as text (how the table keeps and compares it in a condition)."""
        return f"{self.occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{self.sequence:019d}"


def applicable(stamps: Mapping[str, str], stamp: ChangeStamp, aspects: tuple[Aspect, ...]) -> tuple[Aspect, ...]:
    """The aspects this change may set: those it is not older than. Empty: stale."""
    return tuple(a for a in aspects if stamps.get(a.value, "") <= stamp.key)


def stamped(stamps: Mapping[str, str], stamp: ChangeStamp, aspects: tuple[Aspect, ...]) -> dict[str, str]:
    """The stamps after applying `stamp` to `aspects`."""
    return {**stamps, **{a.value: stamp.key for a in aspects}}

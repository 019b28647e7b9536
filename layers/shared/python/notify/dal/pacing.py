"""The SMS rate counters (D17): one conditional update reserves an SMS's moment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ..domain.sms_pacing import Rate
from .errors import condition_held
from .models import PacingItem

_ATTEMPTS = 5  # a counter that turns idle or busy between two updates is tried again

# The moment each counter was last seen at by this process: a hint of which of the two
# conditional updates will hold (a busy lane's, or an idle one's), so that a reservation
# usually takes one request. Only the order of the tries depends on it, never the result.
_seen: dict[str, float] = {}


class PacingContended(Exception):
    """The counter changed under every attempt (the send is retried)."""


def reserve(rate: Rate, parts: int, now: datetime) -> datetime:
    """The moment `parts` parts may leave on this lane, taken: later reservations get
    later moments."""
    spacing = rate.spacing(parts).total_seconds()
    at = now.timestamp()
    item = PacingItem(*PacingItem.key(rate.counter))

    def busy() -> float | None:
        """The counter is ahead of now: this SMS takes the counter's moment."""
        if condition_held(
            lambda: item.update(actions=[PacingItem.next_at.add(spacing)], condition=PacingItem.next_at > at)
        ):
            return float(item.next_at) - spacing
        return None

    def idle() -> float | None:
        """The counter is behind now: this SMS leaves now, the lane busy for its spacing."""
        if condition_held(
            lambda: item.update(
                actions=[PacingItem.next_at.set(at + spacing), PacingItem.entity.set(PacingItem)],
                condition=PacingItem.next_at.does_not_exist() | (PacingItem.next_at <= at),
            )
        ):
            return at
        return None

    tries: tuple[Callable[[], float | None], ...] = (
        (busy, idle) if _seen.get(rate.counter, 0.0) > at else (idle, busy)
    )
    for _ in range(_ATTEMPTS):
        for attempt in tries:
            moment = attempt()
            if moment is not None:
                _seen[rate.counter] = moment + spacing
                return now if moment == at else datetime.fromtimestamp(moment, UTC)
    raise PacingContended(rate.counter)


def moment(rates: tuple[Rate, ...], parts: int, now: datetime) -> datetime:
    """When an SMS of `parts` parts may leave on every one of its lanes."""
    return max(reserve(rate, parts, now) for rate in rates)

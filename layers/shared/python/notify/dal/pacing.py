"""The SMS rate counters (D17): one conditional update reserves an SMS's moment."""

from __future__ import annotations

from datetime import UTC, datetime

from ..domain.sms_pacing import Rate
from .errors import condition_held
from .models import PacingItem

_ATTEMPTS = 5  # a counter that turns idle or busy between two updates is tried again


class PacingContended(Exception):
    """The counter changed under every attempt (the send is retried)."""


def reserve(rate: Rate, parts: int, now: datetime) -> datetime:
    """The moment `parts` parts may leave on this lane, taken: later reservations get
    later moments. One request while the lane is busy, two when it was idle."""
    spacing = rate.spacing(parts).total_seconds()
    at = now.timestamp()
    item = PacingItem(*PacingItem.key(rate.counter))
    for _ in range(_ATTEMPTS):
        # Busy: the counter is ahead of now; this SMS takes the counter's moment.
        if condition_held(
            lambda: item.update(actions=[PacingItem.next_at.add(spacing)], condition=PacingItem.next_at > at)
        ):
            return datetime.fromtimestamp(float(item.next_at) - spacing, UTC)
        # Idle: this SMS leaves now, and the lane is busy for its spacing.
        if condition_held(
            lambda: item.update(
                actions=[PacingItem.next_at.set(at + spacing), PacingItem.entity.set(PacingItem)],
                condition=PacingItem.next_at.does_not_exist() | (PacingItem.next_at <= at),
            )
        ):
            return now
    raise PacingContended(rate.counter)


def moment(rates: tuple[Rate, ...], parts: int, now: datetime) -> datetime:
    """When an SMS of `parts` parts may leave on every one of its lanes."""
    return max(reserve(rate, parts, now) for rate in rates)

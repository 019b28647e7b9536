"""The one place that reads the time.

On AWS this is the wall clock. The local stack swaps in its virtual clock with
`use_clock`, so that days of reminders can pass in seconds while the handlers run
unchanged. Domain code never calls this: it receives `now` as an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return _source()


def use_clock(source: Callable[[], datetime]) -> None:
    """Replace the time source (local stack and tests only)."""
    global _source
    _source = source

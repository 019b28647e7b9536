"""Data-layer outcomes the services turn into answers."""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import PutError, UpdateError


class DuplicateEventError(Exception):
    """This webhook event_id was applied before."""


class ConflictError(Exception):
    """The item changed or exists already; the write was not applied."""


class NotFoundError(Exception):
    """No such item."""


class PracticeClosedError(NotFoundError):
    """The practice has left the service (D19): nothing more is sent, planned or shown for
    it, and its data is being erased. Work for it ends quietly, never retried."""

    def __init__(self, practice_id: str) -> None:
        super().__init__(f"practice {practice_id} closed")
        self.practice_id = practice_id


def condition_held(write: Callable[[], object]) -> bool:
    """Run one conditional write; False when its condition failed (someone got there
    first, or the state moved on), True when it was written. Other errors propagate."""
    try:
        write()
    except (PutError, UpdateError) as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


class ExpiredLinkError(NotFoundError):
    """A patient link that existed and expired: its practice is known (for a helpful page)."""

    def __init__(self, practice_id: str) -> None:
        super().__init__("link expired")
        self.practice_id = practice_id

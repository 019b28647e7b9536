"""One read per item per invocation (issue 16: the fewest AWS requests).

A handler wrapped in `per_invocation` reads each item of the table at most once while it
runs: `NotifyItem.get` keeps what DynamoDB returned (or that the item is absent), keyed
by the item's key, and serves the same answer to the next caller in the same
invocation. `prefetch` reads several items in one BatchGetItem up front (an invocation
that will need the practice's profile, the appointment and the patient asks for them
together).

What keeps it correct:
- any write through an item (save, update, delete) forgets that item's key, whether the
  write succeeded or not (a failed conditional write is followed by a fresh read);
- a transaction forgets every item it writes, committed or refused (`Transaction`);
- a strongly consistent read is never answered from an eventually consistent one;
- nothing is kept between invocations (a warm container starts each one empty), so the
  cache never serves another invocation's view. Within one invocation, a second read of
  an item this invocation did not write returns what the first read saw: what another
  process writes meanwhile is seen by the conditional writes (they check the table),
  not by a re-read.

Outside `per_invocation` (scripts, tests, ops tools) every read goes to the table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from pynamodb.connection import Connection
from pynamodb.constants import RESPONSES, UNPROCESSED_KEYS
from pynamodb.transactions import TransactWrite

F = TypeVar("F", bound=Callable[..., Any])
Key = tuple[str, str]

# key -> (the item's raw attributes, or None when absent; whether the read was consistent)
_reads: ContextVar[dict[Key, tuple[dict[str, Any] | None, bool]] | None] = ContextVar("reads", default=None)


def per_invocation(handler: F) -> F:
    """Wrap a Lambda handler: each item is read at most once while it runs."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = _reads.set({})
        try:
            return handler(*args, **kwargs)
        finally:
            _reads.reset(token)

    return wrapped  # type: ignore[return-value]


def cached(key: Key, consistent: bool) -> tuple[bool, dict[str, Any] | None]:
    """(known, raw item or None) for `key` in this invocation."""
    reads = _reads.get()
    if reads is None or key not in reads:
        return False, None
    raw, was_consistent = reads[key]
    if consistent and not was_consistent:
        return False, None
    return True, raw


def remember(key: Key, raw: dict[str, Any] | None, consistent: bool) -> None:
    reads = _reads.get()
    if reads is not None:
        reads[key] = (raw, consistent)


def forget(key: Key) -> None:
    reads = _reads.get()
    if reads is not None:
        reads.pop(key, None)


def active() -> bool:
    return _reads.get() is not None


def prefetch(*keys: Key | None) -> None:
    """Read the items (keys from dal/keys.py; None is skipped) not yet read in this
    invocation in one BatchGetItem, strongly consistent, so that the `get`s that follow
    are answered here. Nothing happens outside `per_invocation`."""
    if not active():
        return
    wanted = list(dict.fromkeys(k for k in keys if k is not None and not cached(k, True)[0]))
    if len(wanted) < 2:
        return  # one item: its own GetItem is as cheap
    from .models import NotifyItem  # models uses this module

    connection = NotifyItem._get_connection()
    # AWS: at most 100 keys and 16 MB a call, no key twice (ValidationException); a
    # partial answer (throttling, over 1 MB from one partition) lists the rest in
    # UnprocessedKeys. Those are left to their own GetItem, which the SDK retries with
    # backoff, rather than asked again at once.
    asked: list[Any] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in wanted[:100]]
    page = connection.batch_get_item(asked, consistent_read=True)
    found = {
        (raw["pk"]["S"], raw["sk"]["S"]): raw for raw in page.get(RESPONSES, {}).get(connection.table_name, [])
    }
    unprocessed = page.get(UNPROCESSED_KEYS, {}).get(connection.table_name, {}).get("Keys", [])
    left = {(k["pk"]["S"], k["sk"]["S"]) for k in unprocessed}
    for key in wanted[:100]:
        if key not in left:
            remember(key, found.get(key), True)


class Transaction(TransactWrite):
    """pynamodb's TransactWrite that forgets, committed or refused, the items it writes."""

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            for operation in (*self._put_items, *self._update_items, *self._delete_items):
                attributes = operation.get("Key") or operation.get("Item") or {}
                forget((attributes["pk"]["S"], attributes["sk"]["S"]))


@functools.lru_cache(maxsize=1)
def _connection() -> Connection:
    """One per process: creating one builds a botocore session (about 50 ms)."""
    from .models import REGION  # models uses this module

    return Connection(region=REGION)


def transaction() -> Transaction:
    """A transaction on the process's one connection."""
    return Transaction(connection=_connection())

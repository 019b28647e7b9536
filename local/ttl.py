"""DynamoDB's Time to Live process, on the virtual clock (P2).

On AWS an expired item is deleted in the background, typically within two days of the
time in its TTL attribute; until then reads, queries and scans still return it. The
deletion's stream record carries `userIdentity = {"type": "Service", "principalId":
"dynamodb.amazonaws.com"}`. Here every expired item is deleted `LAG` after its time (the
typical worst case, so that code trusting TTL to hide data on time fails locally too),
with that identity on its REMOVE record.
"""

from __future__ import annotations

import heapq
from collections import deque
from datetime import datetime, timedelta
from typing import Any

import boto3
from moto.dynamodb.models import dynamodb_backends

from .clock import VirtualClock
from .deploy import ACCOUNT, REGION, Deployment
from .moto_patches import DYNAMODB_LOCK, every_item, stored_item, watch_writes

LAG = timedelta(hours=48)
# The background process is coarse: sweep at most this often (of virtual time).
SWEEP_EVERY = timedelta(hours=1)
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class TimeToLive:
    def __init__(self, deployment: Deployment, clock: VirtualClock) -> None:
        self.clock = clock
        client = boto3.client("dynamodb")
        self.attributes: dict[str, str] = {}
        for table in deployment.tables.values():
            description = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
                self.attributes[table] = description["AttributeName"]
        self._swept: datetime | None = None
        self.deleted = 0
        # The latest REMOVE records it produced (for the emulator's own smoke test).
        self.recent: deque[dict[str, Any]] = deque(maxlen=100)
        # (expiry, table, hash key, range key, raw value) of every item written with a
        # time to live: a sweep takes what is due from the head instead of walking the
        # table. An entry counts only while its item still holds that value (one updated,
        # deleted or written again leaves an old entry behind, dropped when it comes up).
        self._due: list[tuple[float, str, Any, Any, str]] = []
        backend = dynamodb_backends[ACCOUNT][REGION]
        with DYNAMODB_LOCK:
            watch_writes(self._written)
            for name in self.attributes:
                table = backend.tables[name]
                for item in every_item(table):
                    self._written(table, item)

    def _written(self, table: Any, item: Any) -> None:
        """A write left `item` in `table` (under the emulator's lock)."""
        attribute = self.attributes.get(table.name)
        if attribute is None or item is None:
            return
        value = item.attrs.get(attribute)
        expiry = _expiry(value)
        if expiry is not None:
            heapq.heappush(self._due, (expiry, table.name, item.hash_key, item.range_key, value.value))

    def sweep(self) -> int:
        """Delete what expired more than LAG ago; the number of items deleted."""
        now = self.clock.now()
        if self._swept is not None and now - self._swept < SWEEP_EVERY:
            return 0
        self._swept = now
        cutoff = (now - LAG).timestamp()
        backend = dynamodb_backends[ACCOUNT][REGION]
        deleted = 0
        with DYNAMODB_LOCK:
            while self._due and self._due[0][0] <= cutoff:
                _, name, hash_key, range_key, raw = heapq.heappop(self._due)
                table = backend.tables.get(name)
                item = stored_item(table, hash_key, range_key) if table is not None else None
                value = item.attrs.get(self.attributes[name]) if item is not None else None
                if value is None or value.type != "N" or value.value != raw:
                    continue  # changed or gone since: its own entry, if any, decides
                table.delete_item(hash_key, range_key)
                if table.stream_shard is not None and table.stream_shard.items:
                    record = table.stream_shard.items[-1].record
                    record["userIdentity"] = dict(TTL_IDENTITY)
                    self.recent.append(record)
                deleted += 1
        self.deleted += deleted
        return deleted


def _expiry(value: object) -> float | None:
    """Epoch seconds of a TTL attribute's value (anything but a number never expires, as on AWS)."""
    if value is None or getattr(value, "type", None) != "N":
        return None
    try:
        return float(value.value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None

"""DynamoDB's Time to Live process, on the virtual clock (P2).

On AWS an expired item is deleted in the background, typically within two days of the
time in its TTL attribute; until then reads, queries and scans still return it. The
deletion's stream record carries `userIdentity = {"type": "Service", "principalId":
"dynamodb.amazonaws.com"}`. Here every expired item is deleted `LAG` after its time (the
typical worst case, so that code trusting TTL to hide data on time fails locally too),
with that identity on its REMOVE record.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

import boto3
from moto.dynamodb.models import dynamodb_backends

from .clock import VirtualClock
from .deploy import ACCOUNT, REGION, Deployment
from .moto_patches import DYNAMODB_LOCK

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
            for name, attribute in self.attributes.items():
                table = backend.tables[name]
                for item in [i for i in table.all_items() if _expired(i.attrs.get(attribute), cutoff)]:
                    table.delete_item(item.hash_key, item.range_key)
                    if table.stream_shard is not None and table.stream_shard.items:
                        record = table.stream_shard.items[-1].record
                        record["userIdentity"] = dict(TTL_IDENTITY)
                        self.recent.append(record)
                    deleted += 1
        self.deleted += deleted
        return deleted


def _expired(value: object, cutoff: float) -> bool:
    """A number of epoch seconds at or before `cutoff` (anything else never expires, as on AWS)."""
    if value is None or getattr(value, "type", None) != "N":
        return False
    try:
        return float(value.value) <= cutoff  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False

"""Lambda's DynamoDB stream poller: reads each table stream, applies the mapping's filters,
calls the handler with the batch event, retries failed items (partial batch responses)
up to the mapping's limit, then sends the batch description to its on-failure queue."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from .deploy import ACCOUNT, REGION, Deployment, StreamMapping
from .moto_patches import DYNAMODB_LOCK
from .runtime import DeadLetter, Deliverer, InvocationError, LambdaRuntime

_MISSING = object()


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering, for the operators our mappings use (values, prefix, exists)."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(matches(sub, value.get(key, _MISSING)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        for option in pattern:
            if isinstance(option, dict) and "prefix" in option:
                if isinstance(value, str) and value.startswith(option["prefix"]):
                    return True
            elif isinstance(option, dict) and "exists" in option:
                if (value is not _MISSING) == bool(option["exists"]):
                    return True
            elif isinstance(option, dict):
                raise NotImplementedError(f"filter operator {option}")
            elif value is not _MISSING and value == option:
                return True
        return False
    raise ValueError(f"bad filter pattern {pattern!r}")


def _passes(filters: list[Any]) -> Callable[[dict[str, Any]], bool]:
    """A mapping's filter criteria: a record passes any one of them (none: every record)."""
    return lambda record: not filters or any(matches(f, record) for f in filters)


def _copied(value: Any) -> Any:
    """A deep copy of a stream record (dicts, lists and immutable values, as moto keeps
    it) in a third of the time copy.deepcopy takes; anything else is deep-copied."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if value is None or isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)


_IMMUTABLE = (str, bytes, int, float, Decimal, datetime)


def _table_of(stream_arn: str) -> str:
    return stream_arn.split(":table/")[1].split("/stream/")[0]


class StreamPoller(Deliverer):
    """Lambda's poller reads a stream's shard inside AWS; here it reads the emulator's
    shard in this process (the records are already in the stream's wire shape), which
    spares moto's GetRecords: 11 ms a call for serialising every image through its
    response model, the largest single cost of a local run. What a record carries is what
    GetRecords returns, with ApproximateCreationDateTime in epoch seconds as in a Lambda
    event; tests/e2e/test_local_stack.py drives the real GetRecords beside it."""

    def __init__(
        self, deployment: Deployment, runtime: LambdaRuntime, dead_letter: DeadLetter, stats: dict[str, int]
    ) -> None:
        super().__init__(deployment, runtime, dead_letter, stats)
        self._positions: dict[tuple[int, str], str] = {}
        self._shard_ids: dict[str, str] = {}

    def _read(
        self, index: int, mapping: StreamMapping, keep: Callable[[dict[str, Any]], bool] = lambda record: True
    ) -> tuple[tuple[int, str], str | None, list[dict[str, Any]]]:
        """Up to the mapping's batch size of records after the last one this mapping read:
        the sequence number of the last one read, and the records among them that `keep`
        accepts, each a copy in the event's shape (Lambda applies a mapping's filters to
        what it read, and copies only what it delivers).

        A cancelled transaction cuts the stream back to where it was (moto_patches, patch
        4): positions are sequence numbers, so nothing points past the end."""
        shard = dynamodb_backends[ACCOUNT][REGION].tables[_table_of(mapping.stream_arn)].stream_shard
        with DYNAMODB_LOCK:
            self._shard_ids[mapping.stream_arn] = shard.id
            key = (index, shard.id)
            last = self._positions.get(key)
            first = int(last) + 1 if last else shard.starting_sequence_number
            start = max(0, first - shard.starting_sequence_number)
            raw = [item.record for item in shard.items[start : start + mapping.batch_size]]
            records = [_copied(record) for record in raw if keep(record)]
        for record in records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(created, datetime):
                record["dynamodb"]["ApproximateCreationDateTime"] = int(created.replace(tzinfo=UTC).timestamp())
            record["eventSourceARN"] = mapping.stream_arn
        return key, (raw[-1]["dynamodb"]["SequenceNumber"] if raw else None), records

    def _nothing_new(self, index: int, mapping: StreamMapping) -> bool:
        """True when the mapping has read its stream to the end."""
        shard_id = self._shard_ids.get(mapping.stream_arn)
        last = self._positions.get((index, shard_id)) if shard_id else None
        if last is None:
            return False
        shard = dynamodb_backends[ACCOUNT][REGION].tables[_table_of(mapping.stream_arn)].stream_shard
        with DYNAMODB_LOCK:
            newest = shard.starting_sequence_number + len(shard.items) - 1
        return int(last) >= newest

    def pump(self) -> int:
        """Read each mapping's stream on from where it stopped and deliver what passes its
        filters; the number of mappings that read something (0: nothing new)."""
        moved = 0
        for index, mapping in enumerate(self.d.stream_mappings):
            if self._nothing_new(index, mapping):
                continue
            key, last, wanted = self._read(index, mapping, _passes(mapping.filters))
            if last is None:
                continue
            self._positions[key] = last
            moved += 1
            if wanted:
                self._deliver_batch(mapping, key[1], wanted)
        return moved

    def trim(self) -> None:
        """Drop stream records every mapping has read.

        AWS keeps stream records 24 hours; moto keeps them forever and deep-copies the
        whole table, stream included, on every transaction, so an unbounded stream makes
        each write slower than the last.
        """
        backend = dynamodb_backends[ACCOUNT][REGION]
        for arn in {m.stream_arn for m in self.d.stream_mappings}:
            positions = [
                int(self._positions.get((i, shard), 0) or 0)
                for i, m in enumerate(self.d.stream_mappings)
                if m.stream_arn == arn
                for shard in [self._shard_ids.get(arn, "")]
            ]
            if not positions or min(positions) == 0:
                continue
            table = backend.tables[_table_of(arn)]
            shard = table.stream_shard
            with DYNAMODB_LOCK:
                consumed = min(positions) - shard.starting_sequence_number + 1
                if consumed > 0:
                    del shard.items[:consumed]
                    shard.starting_sequence_number += consumed

    def _deliver_batch(self, mapping: StreamMapping, shard: str, records: list[dict[str, Any]]) -> None:
        attempts = 0
        while records:
            self.stats["stream_batches"] += 1
            self.stats["stream_records"] += len(records)
            if self.duplicate_deliveries:
                self.stats["duplicates_injected"] += 1
                # The real delivery below decides retries.
                with contextlib.suppress(InvocationError):
                    self.runtime.invoke(mapping.function, {"Records": list(records)})
            try:
                result = self.runtime.invoke(mapping.function, {"Records": records}) or {}
                failures = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            except InvocationError:
                failures = [records[0]["dynamodb"]["SequenceNumber"]]
            if not failures:
                return
            # Lambda retries from the first failed record onwards.
            first = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failures)
            records = records[first:]
            attempts += 1
            if mapping.max_retries >= 0 and attempts > mapping.max_retries:
                if mapping.on_failure_arn:
                    self.dead_letter(mapping.on_failure_arn, self._batch_info(mapping, shard, records, attempts))
                return

    def _batch_info(
        self, mapping: StreamMapping, shard: str, records: list[dict[str, Any]], attempts: int
    ) -> dict[str, Any]:
        return {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": self.d.functions[mapping.function].arn,
                "approximateInvokeCount": attempts,
            },
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "streamArn": mapping.stream_arn,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
            },
        }

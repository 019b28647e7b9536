"""Lambda's DynamoDB stream poller: reads each table stream, applies the mapping's filters,
calls the handler with the batch event, retries failed items (partial batch responses)
up to the mapping's limit, then sends the batch description to its on-failure queue."""

from __future__ import annotations

import contextlib
from typing import Any

import boto3
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


def _table_of(stream_arn: str) -> str:
    return stream_arn.split(":table/")[1].split("/stream/")[0]


class StreamPoller(Deliverer):
    def __init__(
        self, deployment: Deployment, runtime: LambdaRuntime, dead_letter: DeadLetter, stats: dict[str, int]
    ) -> None:
        super().__init__(deployment, runtime, dead_letter, stats)
        self._positions: dict[tuple[int, str], str] = {}
        self._shard_ids: dict[str, str] = {}
        self._streams = boto3.client("dynamodbstreams")

    def _shard_iterators(self, index: int, mapping: StreamMapping) -> list[tuple[tuple[int, str], str]]:
        """A fresh iterator per shard after the last record we read.

        Iterators are not kept between polls: a cancelled transaction cuts the stream back
        to where it was (moto_patches, patch 4), and an old iterator would point past it.
        """
        shards = self._streams.describe_stream(StreamArn=mapping.stream_arn)["StreamDescription"]["Shards"]
        out = []
        for shard in shards:
            self._shard_ids[mapping.stream_arn] = shard["ShardId"]
            key = (index, shard["ShardId"])
            last = self._positions.get(key)
            spec = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                if last
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self._streams.get_shard_iterator(
                StreamArn=mapping.stream_arn, ShardId=shard["ShardId"], **spec
            )["ShardIterator"]
            out.append((key, iterator))
        return out

    def _nothing_new(self, index: int, mapping: StreamMapping) -> bool:
        """True when the mapping has read its stream to the end: looked up in the emulator's
        own shard (in this process), which spares the three requests of a poll that finds
        nothing (DescribeStream, GetShardIterator, GetRecords) on every settle."""
        shard_id = self._shard_ids.get(mapping.stream_arn)
        last = self._positions.get((index, shard_id)) if shard_id else None
        if last is None:
            return False
        table = dynamodb_backends[ACCOUNT][REGION].tables[_table_of(mapping.stream_arn)]
        shard = table.stream_shard
        with DYNAMODB_LOCK:
            newest = shard.starting_sequence_number + len(shard.items) - 1
        return int(last) >= newest

    def pump(self) -> int:
        delivered = 0
        for index, mapping in enumerate(self.d.stream_mappings):
            if self._nothing_new(index, mapping):
                continue
            for key, iterator in self._shard_iterators(index, mapping):
                response = self._streams.get_records(ShardIterator=iterator, Limit=mapping.batch_size)
                records = [dict(r, eventSourceARN=mapping.stream_arn) for r in response["Records"]]
                if not records:
                    continue
                self._positions[key] = records[-1]["dynamodb"]["SequenceNumber"]
                delivered += len(records)
                wanted = [r for r in records if not mapping.filters or any(matches(f, r) for f in mapping.filters)]
                if wanted:
                    self._deliver_batch(mapping, key[1], wanted)
        return delivered

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

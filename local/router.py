"""What AWS does between the pieces, driven by the virtual clock.

- Lambda's stream poller: reads each table stream, applies the mapping's filters, calls
  the handler with the batch event, retries failed items (partial batch responses) up to
  the mapping's limit, then sends the batch description to its on-failure queue.
- EventBridge Scheduler: fires one-shot schedules when the clock reaches them (as an
  async invoke, which is how Scheduler calls Lambda) and deletes them after completion;
  fires daily `cron(M H * * ? *)` schedules at their local time in their time zone.
- Lambda's async invoke queue: retries (2 by default) then the on-failure destination.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from moto.dynamodb.models import dynamodb_backends
from moto.scheduler.models import scheduler_backends

from .clock import VirtualClock
from .deploy import ACCOUNT, REGION, Deployment, StreamMapping
from .emulator import DYNAMODB_LOCK
from .runtime import InvocationError, LambdaRuntime

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_DAILY = re.compile(r"^cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)$")


def next_daily(expression: str, timezone: str, after: datetime) -> datetime:
    """The first local `H:M` of a daily cron expression strictly after `after` (UTC)."""
    match = _DAILY.match(expression)
    if not match:
        raise NotImplementedError(f"local scheduler fires daily crons only: {expression}")
    zone = ZoneInfo(timezone)
    minute, hour = int(match.group(1)), int(match.group(2))
    day = after.astimezone(zone).date()
    while True:
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        if local.astimezone(UTC) > after:
            return local.astimezone(UTC)
        day += timedelta(days=1)


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


_MISSING = object()


@dataclass
class _AsyncInvoke:
    function: str
    event: dict[str, Any]
    attempt: int = 0


class EventRouter:
    def __init__(self, deployment: Deployment, runtime: LambdaRuntime, clock: VirtualClock) -> None:
        self.d = deployment
        self.runtime = runtime
        self.clock = clock
        self._lock = threading.RLock()
        self._async: deque[_AsyncInvoke] = deque()
        self._async_lock = threading.Lock()
        self._positions: dict[tuple[int, str], str] = {}
        self._shard_ids: dict[str, str] = {}
        self._cron_fired: dict[tuple[str, str, str, str], datetime] = {}
        # B4 drill: deliver every stream batch, schedule firing, async invoke and state
        # machine task twice, as AWS may (at-least-once everywhere).
        self.duplicate_deliveries = False
        self.faults: Any = None  # the emulator's FaultInjector (B8 drills), set by the stack
        self.mailbox: Any = None  # the emulator's SES mailbox simulator, set by the stack
        self.stats = {
            "stream_batches": 0,
            "stream_records": 0,
            "schedules_fired": 0,
            "async_invokes": 0,
            "dead_lettered": 0,
            "duplicates_injected": 0,
        }
        self._streams = boto3.client("dynamodbstreams")
        self._sqs = boto3.client("sqs")
        self._scheduler = boto3.client("scheduler")
        self._sfn = boto3.client("stepfunctions")
        self._sns = boto3.client("sns")

    # -- async invokes ---------------------------------------------------------------------
    def enqueue_async(self, function: str, event: dict[str, Any]) -> None:
        with self._async_lock:
            self._async.append(_AsyncInvoke(function, event))
            if self.duplicate_deliveries:
                # The copy jumps the queue: it arrives out of order, before work that
                # was queued earlier.
                self._async.appendleft(_AsyncInvoke(function, json.loads(json.dumps(event))))
                self.stats["duplicates_injected"] += 1

    def invoke_task(self, function: str, event: dict[str, Any]) -> Any:
        """A synchronous invoke from a state machine task (retried by Step Functions)."""
        if self.duplicate_deliveries:
            self.runtime.invoke(function, json.loads(json.dumps(event)))
            self.stats["duplicates_injected"] += 1
        return self.runtime.invoke(function, event)

    def _drain_async(self) -> int:
        done = 0
        while True:
            with self._async_lock:
                if not self._async:
                    return done
                job = self._async.popleft()
            done += 1
            self.stats["async_invokes"] += 1
            try:
                self.runtime.invoke(job.function, job.event)
            except InvocationError as exc:
                spec = self.d.functions[job.function]
                if job.attempt < spec.async_retries:
                    with self._async_lock:
                        self._async.append(_AsyncInvoke(job.function, job.event, job.attempt + 1))
                elif spec.on_failure_arn:
                    self._dead_letter(
                        spec.on_failure_arn,
                        {
                            "requestContext": {
                                "functionArn": spec.arn,
                                "condition": "RetriesExhausted",
                                "approximateInvokeCount": job.attempt + 1,
                            },
                            "requestPayload": job.event,
                            "responsePayload": exc.payload,
                        },
                    )

    # -- streams ---------------------------------------------------------------------------
    def _shard_iterators(self, index: int, mapping: StreamMapping) -> list[tuple[tuple[int, str], str]]:
        """A fresh iterator per shard after the last record we read.

        Iterators are not kept between polls: when a transaction fails, moto restores a
        deep copy of its tables, and an old iterator would keep reading the discarded
        copy of the stream.
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

    def _pump_streams(self) -> int:
        delivered = 0
        for index, mapping in enumerate(self.d.stream_mappings):
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

    def _trim_streams(self) -> None:
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
            table = backend.tables[arn.split(":table/")[1].split("/stream/")[0]]
            shard = table.stream_shard
            with DYNAMODB_LOCK:
                consumed = min(positions) - shard.starting_sequence_number + 1
                if consumed > 0:
                    del shard.items[:consumed]
                    shard.starting_sequence_number += consumed

    def _deliver_batch(self, mapping: StreamMapping, shard: str, records: list[dict]) -> None:
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
                    self._dead_letter(
                        mapping.on_failure_arn,
                        {
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
                        },
                    )
                return

    # -- schedules ---------------------------------------------------------------------------
    def _schedules(self) -> list[Any]:
        backend = scheduler_backends[ACCOUNT][REGION]
        return [
            s for name in self.d.schedule_groups for s in list(backend.schedule_groups[name].schedules.values())
        ]

    def due_time(self, schedule: Any) -> datetime | None:
        expression = schedule.schedule_expression or ""
        timezone = schedule.schedule_expression_timezone or "UTC"
        if expression.startswith("cron("):
            # A recurring schedule is due at its next time after its last firing (or
            # after the moment the router first saw it).
            key = (schedule.group_name, schedule.name, expression, timezone)
            last = self._cron_fired.setdefault(key, self.clock.now())
            return next_daily(expression, timezone, last)
        match = _AT.match(expression)
        if not match:
            return None
        zone = ZoneInfo(timezone)
        return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone).astimezone(UTC)

    def _fire_due_schedules(self) -> int:
        now = self.clock.now()
        fired = 0
        for schedule in sorted(self._schedules(), key=lambda s: self.due_time(s) or now):
            due = self.due_time(schedule)
            if schedule.state != "ENABLED" or due is None or due > now:
                continue
            target = schedule.target
            function = self.d.function_by_arn(target["Arn"]).name
            self.enqueue_async(function, json.loads(target.get("Input") or "{}"))
            fired += 1
            self.stats["schedules_fired"] += 1
            if (schedule.schedule_expression or "").startswith("cron("):
                key = (
                    schedule.group_name,
                    schedule.name,
                    schedule.schedule_expression,
                    schedule.schedule_expression_timezone or "UTC",
                )
                self._cron_fired[key] = due
            elif schedule.action_after_completion == "DELETE":
                self._scheduler.delete_schedule(Name=schedule.name, GroupName=schedule.group_name)
            else:
                schedule.state = "DISABLED"
        return fired

    def pending_schedules(self) -> int:
        return sum(1 for s in self._schedules() if s.state == "ENABLED")

    def pending_schedule_names(self, prefix: str = "") -> list[str]:
        return sorted(s.name for s in self._schedules() if s.state == "ENABLED" and s.name.startswith(prefix))

    # -- SES event destinations ------------------------------------------------------------
    def _publish_email_events(self) -> int:
        """What SES publishes to a configuration set's SNS destination (bounces and
        complaints of the mailbox simulator's addresses)."""
        if self.mailbox is None:
            return 0
        published = 0
        for configuration_set, event in self.mailbox.take():
            topic = self.d.ses_event_topics.get(configuration_set)
            if topic:
                self._sns.publish(TopicArn=topic, Message=json.dumps(event))
                published += 1
        return published

    # -- step functions ------------------------------------------------------------------------
    def running_executions(self) -> int:
        return sum(
            len(self._sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"])
            for arn in self.d.state_machines.values()
        )

    def _state_machines_busy(self) -> bool:
        return self.running_executions() > self.clock.blocked_waiters()

    # -- driving ---------------------------------------------------------------------------
    def settle(self, timeout_s: float = 60.0) -> None:
        """Run everything that is due now, until nothing moves (waits on future times)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError("local stack did not settle")
                progressed = (
                    self._drain_async()
                    + self._pump_streams()
                    + self._fire_due_schedules()
                    + self._publish_email_events()
                )
                if progressed:
                    continue
                self._trim_streams()
                if self._state_machines_busy():
                    time.sleep(0.002)
                    continue
                with self._async_lock:
                    if self._async:
                        continue
                return

    def next_event_time(self) -> datetime | None:
        now = self.clock.now()
        times = [
            t
            for t in (self.due_time(s) for s in self._schedules() if s.state == "ENABLED")
            if t is not None and t > now
        ]
        wake = self.clock.next_wake()
        if wake is not None:
            times.append(wake)
        return min(times) if times else None

    def advance_to(self, target: datetime) -> None:
        """Move the clock to `target`, stopping at every due moment on the way."""
        with self._lock:
            self.settle()
            while True:
                upcoming = self.next_event_time()
                if upcoming is None or upcoming > target:
                    break
                self.clock.set(upcoming)
                self.settle()
            if target > self.clock.now():
                self.clock.set(target)
            self.settle()

    def _dead_letter(self, queue_arn: str, body: dict[str, Any]) -> None:
        name = queue_arn.rsplit(":", 1)[-1]
        url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
        self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, default=str))
        self.stats["dead_lettered"] += 1

"""What AWS does between the pieces, driven by the virtual clock: each job in its module
(streams.py: Lambda's stream poller; queues.py: its SQS poller; schedules.py: EventBridge Scheduler;
async_invokes.py: Lambda's async queue; ttl.py: DynamoDB's TTL process), plus SES's
event publishing. `settle` runs whatever is due now until nothing moves; `advance_to`
moves the clock, stopping at every due moment on the way."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import boto3

from .async_invokes import AsyncInvokes
from .clock import VirtualClock
from .deploy import ACCOUNT, REGION, Deployment
from .queues import QueuePoller
from .runtime import LambdaRuntime
from .schedules import Schedules
from .streams import StreamPoller
from .ttl import TimeToLive


class EventRouter:
    def __init__(self, deployment: Deployment, runtime: LambdaRuntime, clock: VirtualClock) -> None:
        self.d = deployment
        self.clock = clock
        self._lock = threading.RLock()
        self.faults: Any = None  # the emulator's FaultInjector (B8 drills), set by the stack
        self.mailbox: Any = None  # the emulator's SES mailbox simulator, set by the stack
        self.stats = {
            "stream_batches": 0,
            "stream_records": 0,
            "schedules_fired": 0,
            "async_invokes": 0,
            "dead_lettered": 0,
            "duplicates_injected": 0,
            "expired_items": 0,
            "queue_batches": 0,
        }
        self.async_invokes = AsyncInvokes(deployment, runtime, self._dead_letter, self.stats)
        self.streams = StreamPoller(deployment, runtime, self._dead_letter, self.stats)
        self.queues = QueuePoller(deployment, runtime, self._dead_letter, self.stats)
        self.schedules = Schedules(deployment, clock, self.async_invokes.enqueue, self.stats)
        self.ttl = TimeToLive(deployment, clock)
        self._sqs = boto3.client("sqs")
        self._sns = boto3.client("sns")

    # B4 drill: deliver every stream batch, schedule firing, async invoke and state
    # machine task twice, as AWS may (at-least-once everywhere).
    @property
    def duplicate_deliveries(self) -> bool:
        return self.async_invokes.duplicate_deliveries

    @duplicate_deliveries.setter
    def duplicate_deliveries(self, on: bool) -> None:
        self.async_invokes.duplicate_deliveries = self.streams.duplicate_deliveries = on
        self.queues.duplicate_deliveries = on

    def enqueue_async(self, function: str, event: dict[str, Any]) -> None:
        self.async_invokes.enqueue(function, event)

    def invoke_task(self, function: str, event: dict[str, Any]) -> Any:
        return self.async_invokes.invoke_task(function, event)

    def pending_schedules(self) -> int:
        return self.schedules.pending()

    def pending_schedule_names(self, prefix: str = "") -> list[str]:
        return self.schedules.pending_names(prefix)

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

    # -- two-way SMS -------------------------------------------------------------------------
    def receive_sms(self, sender: str, text: str, to: str, message_id: str | None = None) -> str:
        """A patient's text to our number `to`, as End User Messaging SMS publishes it."""
        inbound_id = message_id or str(uuid.uuid4())
        payload = {
            "originationNumber": sender,
            "destinationNumber": to,
            "messageKeyword": "",
            "messageBody": text,
            "inboundMessageId": inbound_id,
            "previousPublishedMessageId": "",
        }
        self._sns.publish(TopicArn=self.d.inbound_sms_topic, Message=json.dumps(payload))
        self.settle()
        return inbound_id

    # -- step functions ------------------------------------------------------------------------
    def running_executions(self) -> int:
        """Every running execution of every state machine (the clock's waiters are counted
        across all of them too: a machine created outside the template, as a test does,
        must finish its step before the stack is settled). Read from the emulator in this
        process, as the stream poller reads its shard: two API calls on every quiet step of
        the clock were 6% of an intake."""
        from moto.stepfunctions.responses import get_backend

        return sum(
            1
            for machine in list(get_backend(ACCOUNT, REGION).state_machines)
            for execution in list(machine.executions)
            if getattr(execution.status, "value", execution.status) == "RUNNING"
        )

    def _state_machines_busy(self) -> bool:
        return self.running_executions() > self.clock.blocked_waiters()

    # -- driving ---------------------------------------------------------------------------
    def settle(self, timeout_s: float = 60.0, limit_s: float = 900.0) -> None:
        """Run everything that is due now, until nothing moves (waits on future times).

        Gives up after `timeout_s` without progress (something waits forever), or after
        `limit_s` in all (something never stops moving); a busy moment of a large run
        (a thousand appointments' work due at once) may take longer than `timeout_s`."""
        started = time.monotonic()
        deadline = started + timeout_s
        with self._lock:
            while True:
                if time.monotonic() > min(deadline, started + limit_s):
                    raise TimeoutError("local stack did not settle")
                expired = self.ttl.sweep()
                self.stats["expired_items"] += expired
                progressed = (
                    expired
                    + self.async_invokes.drain()
                    + self.streams.pump()
                    + self.schedules.fire_due()
                    + self.queues.pump()
                    + self._publish_email_events()
                )
                if progressed:
                    deadline = time.monotonic() + timeout_s
                    continue
                self.streams.trim()
                if self._state_machines_busy():
                    time.sleep(0.002)
                    continue
                if self.async_invokes.pending():
                    continue
                return

    def next_event_time(self) -> datetime | None:
        times = [
            t for t in (self.schedules.next_due(), self.clock.next_wake(), self.queues.next_due()) if t is not None
        ]
        return min(times) if times else None

    def advance_to(self, target: datetime) -> None:
        """Move the clock to `target`, stopping at every due moment on the way."""
        with self._lock:
            self.settle()
            while True:
                upcoming = self.next_event_time()
                if upcoming is None or upcoming > target:
                    break
                if upcoming <= self.clock.now():  # settled, yet something says it is due
                    raise RuntimeError(f"local stack: work due at {upcoming} did not run")
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

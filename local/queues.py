"""Lambda's SQS poller: reads each mapped queue (what is visible now, on the virtual
clock: moto patch 7), calls the handler with the batch, deletes what succeeded. A failed
message (reported in batchItemFailures, or the whole batch when the invocation fails)
stays in the queue and is seen again once its visibility timeout has passed; after the
queue's maxReceiveCount, SQS moves it to the dead-letter queue (moto does, on receive)."""

from __future__ import annotations

import contextlib
import functools
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.sqs import models as sqs_models
from moto.sqs.models import sqs_backends

from .deploy import ACCOUNT, REGION, QueueMapping
from .runtime import Deliverer, InvocationError


class QueuePoller(Deliverer):
    def pump(self) -> int:
        delivered = 0
        for mapping in self.d.queue_mappings:
            while self._visible(mapping):
                received = self._sqs.receive_message(
                    QueueUrl=mapping.queue_url,
                    MaxNumberOfMessages=min(mapping.batch_size, 10),
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not received:
                    break
                delivered += len(received)
                self._deliver(mapping, [self._record(mapping, m) for m in received])
        return delivered

    @functools.cached_property
    def _sqs(self) -> Any:
        """One client for the poller (a client costs milliseconds to build)."""
        return boto3.client("sqs")

    @staticmethod
    def _queue(mapping: QueueMapping) -> Any:
        return sqs_backends[ACCOUNT][REGION].queues[mapping.queue_arn.rsplit(":", 1)[-1]]

    def _visible(self, mapping: QueueMapping) -> bool:
        """Anything to receive now (read in-process: no request when the queue is idle).
        Read from each message's fields with the clock read once: moto's `messages` reads
        the clock twice per message, which made a backlog of thousands quadratic."""
        now = sqs_models.unix_time_millis()  # type: ignore[attr-defined]  # virtual (patch 7)
        return any(_shows(m, now) for m in list(self._queue(mapping)._messages))

    def next_due(self) -> datetime | None:
        """When the next held-back or in-flight message of a mapped queue shows (virtual)."""
        # moto shows a message once the clock is past its visible_at (strictly) and no
        # longer before its delayed_until: the first millisecond it is visible.
        now = sqs_models.unix_time_millis()  # type: ignore[attr-defined]
        moments = [
            max(m.delayed_until, m.visible_at + 1)
            for mapping in self.d.queue_mappings
            for m in list(self._queue(mapping)._messages)
            if not _shows(m, now)
        ]
        return datetime.fromtimestamp(min(moments) / 1000, UTC) if moments else None

    @staticmethod
    def _record(mapping: QueueMapping, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": mapping.queue_arn,
            "awsRegion": REGION,
        }

    def _deliver(self, mapping: QueueMapping, records: list[dict[str, Any]]) -> None:
        self.stats["queue_batches"] += 1
        if self.duplicate_deliveries:  # B4: SQS delivers at least once
            self.stats["duplicates_injected"] += 1
            with contextlib.suppress(InvocationError):
                self.runtime.invoke(mapping.function, {"Records": list(records)})
        try:
            result = self.runtime.invoke(mapping.function, {"Records": records}) or {}
        except InvocationError:
            return  # every message shows again after its visibility timeout
        failed = (
            {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            if mapping.report_item_failures
            else set()
        )
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=mapping.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                    for i, r in enumerate(done[start : start + 10])
                ],
            )


def _shows(message: Any, now: float) -> bool:
    """moto's `visible and not delayed`, with the clock read once by the caller."""
    return bool(now > message.visible_at and now >= message.delayed_until)

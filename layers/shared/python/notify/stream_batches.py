"""What every stream and queue reader shares: partial batch responses (B8: one bad record
never blocks its shard or its queue).

Written here rather than with powertools' BatchProcessor, which behaves the same for a
stream but imports asyncio and every parser model with it: 42 ms of each planner and
callback cold start for a loop of a dozen lines (issue 16). Same contract: every record
is tried, the failed ones are reported by sequence number (Lambda retries from the first
of them, ReportBatchItemFailures), and a batch where every record failed is raised as an
error so the invocation counts as failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .observability import logger


class BatchFailedError(Exception):
    """Every record of the batch failed (Lambda retries it whole)."""


Handler = Callable[[dict[str, Any]], None]


def _failures(
    records: list[dict[str, Any]], record_handler: Handler, identifier: Callable[[dict[str, Any]], str]
) -> list[dict[str, str]]:
    """Every record tried; the failed ones, by the identifier their source takes back."""
    failures = []
    for record in records:
        try:
            record_handler(record)
        except Exception:
            logger.exception("batch record failed", extra={"item": identifier(record)})
            failures.append({"itemIdentifier": identifier(record)})
    return failures


def process_stream_batch(event: dict[str, Any], record_handler: Handler) -> dict[str, list[dict[str, str]]]:
    """Run `record_handler` per record; failed records are reported (by sequence number),
    not the batch."""
    records = event.get("Records", [])
    failures = _failures(records, record_handler, lambda r: r["dynamodb"]["SequenceNumber"])
    if records and len(failures) == len(records):
        raise BatchFailedError(f"all {len(records)} records of the batch failed")
    return {"batchItemFailures": failures}


def process_queue_batch(event: dict[str, Any], record_handler: Handler) -> dict[str, list[dict[str, str]]]:
    """The same over an SQS batch: a failed message is reported by its id, and only it
    returns to the queue (after its visibility timeout; at last to its dead-letter queue)."""
    return {"batchItemFailures": _failures(event.get("Records", []), record_handler, lambda r: r["messageId"])}

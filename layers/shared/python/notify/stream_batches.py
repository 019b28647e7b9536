"""What every stream reader shares: partial batch responses over the table's stream (B8:
one bad record never blocks its shard)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord


def process_stream_batch(
    event: dict[str, Any], context: Any, record_handler: Callable[[DynamoDBRecord], None]
) -> PartialItemFailureResponse:
    """Run `record_handler` per record; failed records are reported, not the batch."""
    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=context,
    )

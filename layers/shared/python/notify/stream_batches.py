"""What every stream-driven handler shares: partial batch responses over the table's
stream (B8: one bad record never blocks its shard) and the scheduler target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from .adapters.scheduler import SchedulerTarget
from .settings import PlannerSettings


def process_stream_batch(event: dict, context: Any, record_handler: Callable[[DynamoDBRecord], None]) -> dict:
    """Run `record_handler` per record; failed records are reported, not the batch."""
    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=context,
    )


def scheduler_target(settings: PlannerSettings) -> SchedulerTarget:
    return SchedulerTarget(
        settings.schedule_group,
        settings.send_function_arn,
        settings.scheduler_role_arn,
        settings.scheduler_dlq_arn,
    )


def recall_target(settings: PlannerSettings) -> SchedulerTarget | None:
    """The daily recall sweep's target (K1), where the planner has one."""
    if not settings.recall_function_arn:
        return None
    return SchedulerTarget(
        settings.schedule_group,
        settings.recall_function_arn,
        settings.scheduler_role_arn,
        settings.scheduler_dlq_arn,
    )

"""DynamoDB stream -> the appointment's message plan (one-shot schedules, immediate sends)."""

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.clock import utcnow
from notify.dal.practices import get_practice
from notify.observability import logger, metrics, tracer
from notify.services.planning import plan_change
from notify.services.stream_records import appointment_images
from notify.settings import PlannerSettings
from notify.stream_batches import process_stream_batch, scheduler_target

target = scheduler_target(PlannerSettings.from_env())


def record_handler(record: DynamoDBRecord) -> None:
    images = appointment_images(record.raw_event)
    if images is None:
        return
    old, new = images
    current = new or old
    assert current is not None
    plan_change(old, new, get_practice(current.practice_id), target, utcnow())


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_stream_batch(event, context, record_handler)

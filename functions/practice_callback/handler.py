"""DynamoDB stream (callback items) -> signed POST to the practice's callback URL (B6)."""

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.clock import utcnow
from notify.observability import logger, metrics, tracer
from notify.services.practice_notices import deliver_notice
from notify.settings import ApiSettings

settings = ApiSettings.from_env()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    deliver_notice(record.raw_event, utcnow())


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)

"""DynamoDB stream (callback items) -> signed POST to the practice's callback URL (B6)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.clock import utcnow
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.services.practice_notices import deliver_notice
from notify.settings import CallbackSettings
from notify.stream_batches import process_stream_batch

settings = CallbackSettings.from_env()


def record_handler(record: dict) -> None:
    deliver_notice(record, utcnow(), settings.secrets_key_arn, settings.local_loopback_callbacks)


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID")
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_stream_batch(event, record_handler)

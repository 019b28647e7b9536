"""The paced SMS queue's sender: each SMS leaves at its moment, if still wanted (D17)."""

from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.channels import ChannelConfig
from notify.adapters.invoker import Invoker
from notify.clock import utcnow
from notify.contracts import QueuedSms
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.services.delivery import Sending
from notify.services.paced_sms import leave
from notify.settings import SmsSenderSettings
from notify.stream_batches import process_queue_batch

settings = SmsSenderSettings.from_env()
# SMS only (R11 links); an SMS that does not leave hands its email to send_push.
sending = replace(
    Sending.from_settings(settings, ChannelConfig.for_sms(settings)), hand_back=Invoker(settings.send_function_arn)
)


def _one(record: dict[str, Any]) -> None:
    leave(QueuedSms.model_validate_json(record["body"]), utcnow(), sending)


@logger.inject_lambda_context
@metrics.log_metrics
@per_invocation  # a batch's messages of one practice read its profile once
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_queue_batch(event, _one)

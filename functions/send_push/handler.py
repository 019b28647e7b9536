"""A schedule fired (or a message is due at once): send it, push first, then escalate."""

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.channels import ChannelConfig
from notify.clock import utcnow
from notify.contracts import SendRequest
from notify.observability import logger, metrics, tracer
from notify.services.delivery import deliver
from notify.settings import SenderSettings

settings = SenderSettings.from_env()
channels = ChannelConfig.from_settings(settings)


@logger.inject_lambda_context(correlation_id_path="appointment_id")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = parse(event=event, model=SendRequest)
    outcome = deliver(request, utcnow(), settings.public_base_url, channels)
    return {"sent": outcome.sent, "skipped": outcome.skipped, "escalation_started": outcome.escalation_started}

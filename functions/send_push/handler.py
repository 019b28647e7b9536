"""A schedule fired (or a message is due at once): send it, push first, then escalate."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.channels import ChannelConfig
from notify.adapters.escalation_machine import Escalations
from notify.clock import utcnow
from notify.contracts import SendRequest
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.services.delivery import Sending, deliver
from notify.settings import SenderSettings

settings = SenderSettings.from_env()
sending = Sending.from_settings(
    settings, ChannelConfig.from_settings(settings), Escalations(settings.escalation_state_machine_arn)
)


@logger.inject_lambda_context(correlation_id_path="appointment_id")
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SendRequest.model_validate(event)
    outcome = deliver(request, utcnow(), sending).logged(request.message_id)
    return {"sent": outcome.sent, "skipped": outcome.skipped, "escalation_started": outcome.escalation_started}

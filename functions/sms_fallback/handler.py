"""The escalation state machine's last step: SMS when the push went unanswered (C1, R6)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.channels import ChannelConfig
from notify.clock import utcnow
from notify.contracts import EscalationRequest
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.services.delivery import Sending, escalate
from notify.settings import FallbackSettings

settings = FallbackSettings.from_env()
sending = Sending.from_settings(settings, ChannelConfig.from_settings(settings))


@logger.inject_lambda_context(correlation_id_path="request.appointment_id")
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = EscalationRequest.model_validate(event["request"])
    outcome = escalate(request, utcnow(), sending).logged(request.message_id)
    return {"sent": outcome.sent, "skipped": outcome.skipped}

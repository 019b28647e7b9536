"""Texts patients send to our number (T1, T2), through End User Messaging SMS's two-way
SNS topic: 1 confirms, 2 cancels, STOP / START switch SMS for the practice, anything
else gets one helpful answer. Logic in notify/services/sms_replies.py."""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from notify.adapters.channels import ChannelConfig
from notify.adapters.link_keys import LinkKeys
from notify.clock import utcnow
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.services.sms_replies import InboundSms, Replies, handle_inbound
from notify.settings import FallbackSettings
from notify.sns_messages import sns_messages

settings = FallbackSettings.from_env()
replies = Replies(ChannelConfig.from_settings(settings), LinkKeys(settings.link_key_arn), settings.public_base_url)


@logger.inject_lambda_context
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes = []
    for raw in sns_messages(event):
        try:
            message = InboundSms.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            logger.warning("inbound SMS not understood")  # nothing to act on, nothing to retry
            continue
        outcomes.append(handle_inbound(message, utcnow(), replies).reply)
    return {"replies": outcomes}

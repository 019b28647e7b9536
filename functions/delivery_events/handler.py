"""SES bounce and complaint events (through the configuration set's SNS topic): the
address is marked invalid for that patient (C5), and counted for the operators' alarm."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.services.email_feedback import apply_ses_event
from notify.settings import ApiSettings
from notify.sns_messages import sns_messages

settings = ApiSettings.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict:
    outcomes = [apply_ses_event(message) for message in sns_messages(event)]
    return {"marked": sum(1 for o in outcomes if o == "marked"), "records": len(outcomes)}

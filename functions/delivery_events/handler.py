"""SES bounce and complaint events (through the configuration set's SNS topic): the
address is marked invalid for that patient (C5), and counted for the operators' alarm."""

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.observability import logger, metrics, tracer
from notify.services.email_feedback import apply_ses_event
from notify.settings import ApiSettings

settings = ApiSettings.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict:
    outcomes = [apply_ses_event(record.sns.message) for record in event.records]
    return {"marked": sum(1 for o in outcomes if o == "marked"), "records": len(outcomes)}

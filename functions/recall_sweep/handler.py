"""A practice's daily recall schedule fired (K1): recall everyone due, once per period."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from notify.adapters.invoker import Invoker
from notify.clock import utcnow
from notify.contracts import Identifier
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.services.recalls import sweep
from notify.settings import RecallSettings

settings = RecallSettings.from_env()
invoker = Invoker(settings.send_function_arn)


class SweepRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    practice_id: Identifier


@logger.inject_lambda_context(correlation_id_path="practice_id")
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SweepRequest.model_validate(event)
    outcome = sweep(request.practice_id, utcnow(), invoker)
    metrics.add_metric(name="RecallsDue", unit="Count", value=len(outcome.sent))
    return {"sent": len(outcome.sent), "not_needed": len(outcome.not_needed)}

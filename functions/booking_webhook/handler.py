"""The practice API: signed events in (webhook), reads of what happened, a patient's data
(export, erasure), recalls and the blocked-number list. Routes live in notify/api/practice,
assembled in notify/api/apps.py."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.link_keys import LinkKeys
from notify.api.apps import practice_app
from notify.api.guard import practice_refusal
from notify.api.openapi import SERVED_AT
from notify.api.practice.params import PracticeApi, wire
from notify.clock import utcnow
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.request_paths import canonical_path, normalise
from notify.settings import PracticeApiSettings

settings = PracticeApiSettings.from_env()
wire(PracticeApi(links=LinkKeys(settings.link_key_arn)))
app = practice_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    unsigned = canonical_path(event) == SERVED_AT  # the contract is public
    refusal = None if unsigned else practice_refusal(event, utcnow(), settings.secrets_key_arn)
    if refusal is not None:
        return refusal
    return app.resolve(normalise(event), context)

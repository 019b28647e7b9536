"""The patient pages behind a link, no login: the appointment (R4), freed-slot offers
(F2), a recall's booking page (K2), a day's grouped reminder (R11), the app's receipts.
Routes live in notify/api/patient, assembled in notify/api/apps.py."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.link_keys import LinkKeys
from notify.api.apps import patient_app
from notify.api.guard import patient_refusal
from notify.api.patient import groups
from notify.dal.read_cache import per_invocation
from notify.observability import logger, metrics
from notify.request_paths import normalise
from notify.settings import PatientPagesSettings

settings = PatientPagesSettings.from_env()
groups.wire(LinkKeys(settings.link_key_arn))
app = patient_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refusal = patient_refusal(event)
    if refusal is not None:
        return refusal
    return app.resolve(normalise(event), context)

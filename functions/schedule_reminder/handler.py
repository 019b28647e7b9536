"""What a change causes later, from the table's stream: the appointment's message plan
(one-shot schedules), recall periods of attended visits and recall bookings (K1, K2),
each practice's daily recall schedule (K1) and the practice's manual recalls (K4, K5).
And, fired by its own settle schedule once a change has settled (B9), the notices of
that change and the slot it freed offered to later patients (F1, F3)."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.scheduler import SchedulerTarget
from notify.clock import utcnow
from notify.contracts import SettleRequest
from notify.dal.practices import get_practice
from notify.observability import logger, metrics, tracer
from notify.services import recalls
from notify.services.planning import plan_change, settle
from notify.services.slot_offers import release_slot
from notify.services.stream_records import appointment_images, practice_id_of_profile
from notify.settings import PlannerSettings
from notify.stream_batches import process_stream_batch, recall_target, scheduler_target

settings = PlannerSettings.from_env()
target = scheduler_target(settings)
sweep_target = recall_target(settings)


def _settle_target(context: LambdaContext) -> SchedulerTarget:
    """Settle schedules fire this very function (its ARN from the context: a function
    cannot name its own ARN in its environment without a circular dependency)."""
    return SchedulerTarget(
        settings.schedule_group,
        context.invoked_function_arn,
        settings.scheduler_role_arn,
        settings.scheduler_dlq_arn,
    )


def record_handler(record: DynamoDBRecord, settle_target: SchedulerTarget) -> None:
    practice_id = practice_id_of_profile(record.raw_event)
    if practice_id is not None:
        if sweep_target is not None:
            recalls.plan_daily_sweep(get_practice(practice_id), sweep_target)
        return
    if recalls.on_recall_record(record.raw_event):
        return
    images = appointment_images(record.raw_event)
    if images is None:
        return
    old, new = images
    current = new or old
    assert current is not None
    practice = get_practice(current.practice_id)
    now = utcnow()
    plan_change(old, new, practice, target, now, settle_target)
    recalls.on_appointment_change(old, new, practice, now)


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settle_target = _settle_target(context)
    if "settle" in event:
        request = parse(event=event["settle"], model=SettleRequest)
        outcome = settle(
            request.practice_id,
            request.appointment_id,
            get_practice(request.practice_id),
            target,
            settle_target,
            utcnow(),
            release_slot,
        )
        return {"notices": outcome.notices, "offers": outcome.offers}
    return process_stream_batch(event, context, lambda record: record_handler(record, settle_target))

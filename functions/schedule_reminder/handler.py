"""DynamoDB stream -> what a change causes later: the appointment's message plan (one-shot
schedules, immediate sends), its freed slot offered to later patients (F1, F3), recall
periods of attended visits and recall bookings (K1, K2), each practice's daily recall
schedule (K1) and the practice's manual recalls (K4, K5)."""

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.clock import utcnow
from notify.dal.practices import get_practice
from notify.observability import logger, metrics, tracer
from notify.services import recalls
from notify.services.planning import plan_change
from notify.services.slot_offers import release_slot
from notify.services.stream_records import appointment_images, practice_id_of_profile
from notify.settings import PlannerSettings
from notify.stream_batches import process_stream_batch, recall_target, scheduler_target

settings = PlannerSettings.from_env()
target = scheduler_target(settings)
sweep_target = recall_target(settings)


def record_handler(record: DynamoDBRecord) -> None:
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
    plan_change(old, new, practice, target, now)
    release_slot(old, new, practice, target, now)
    recalls.on_appointment_change(old, new, practice, now)


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_stream_batch(event, context, record_handler)

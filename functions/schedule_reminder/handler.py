"""The planner. From the table's stream: what each change causes later (message plans,
recall periods, daily recall schedules, manual recalls, erasures). From its own one-shot
schedules: a change has settled (notices and freed slots, B9), an erasure's second
pass is due (P1), the next page of appointments follows a settings change (C8), or the
next run of a closed practice's erasure is due (D19).
Decisions live in notify/services/table_changes.py."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.adapters.escalation_machine import Escalations
from notify.adapters.invoker import Invoker
from notify.adapters.link_keys import LinkKeys
from notify.adapters.scheduler import SchedulerTarget
from notify.clock import utcnow
from notify.contracts import EraseRequest, FollowSettingsRequest, LeaveRequest, OfferWaveRequest, SettleRequest
from notify.dal import keys
from notify.dal.errors import PracticeClosedError
from notify.dal.practices import get_practice
from notify.dal.read_cache import per_invocation, prefetch
from notify.observability import logger, metrics
from notify.services import erasure, offboarding, settings_follow, table_changes
from notify.services.planning import Planning, settle
from notify.services.slot_offers import next_wave, release_slot
from notify.settings import PlannerSettings
from notify.stream_batches import process_stream_batch

settings = PlannerSettings.from_env()


def planner(context: LambdaContext) -> table_changes.Planner:
    """Settle schedules fire this very function (its ARN from the context: a function
    cannot name its own ARN in its environment without a circular dependency)."""
    target = SchedulerTarget(
        settings.schedule_group,
        settings.send_function_arn,
        settings.scheduler_role_arn,
        settings.scheduler_dlq_arn,
    )
    itself = SchedulerTarget(
        settings.schedule_group,
        context.invoked_function_arn,
        settings.scheduler_role_arn,
        settings.scheduler_dlq_arn,
    )
    sweeps = (
        SchedulerTarget(
            settings.schedule_group,
            settings.recall_function_arn,
            settings.scheduler_role_arn,
            settings.scheduler_dlq_arn,
        )
        if settings.recall_function_arn
        else None
    )
    links = LinkKeys(settings.link_key_arn)
    planning = Planning(target, itself, Invoker(settings.send_function_arn), links)
    escalations = Escalations(settings.escalation_state_machine_arn)
    deps = erasure.ErasureDeps(links, escalations, itself)
    leaving = offboarding.Leaving(links, escalations, target, itself, sweeps)
    return table_changes.Planner(planning, deps, sweeps, leaving)


@logger.inject_lambda_context(correlation_id_path="Records[0].eventID")
@metrics.log_metrics
@per_invocation
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wired = planner(context)
    try:
        return _scheduled(event, wired) if _SCHEDULED & event.keys() else _stream(event, wired)
    except PracticeClosedError as closed:  # D19: nothing more happens for it
        logger.info("practice closed: nothing to do", practice_id=closed.practice_id)
        return {"closed": True}


_SCHEDULED = {"settle", "follow_settings", "erase", "leave", "offer_wave"}


def _scheduled(event: dict[str, Any], wired: table_changes.Planner) -> dict[str, Any]:
    if "settle" in event:
        request = SettleRequest.model_validate(event["settle"])
        prefetch(keys.profile(request.practice_id), keys.appointment(request.practice_id, request.appointment_id))
        outcome = settle(
            request.practice_id,
            request.appointment_id,
            get_practice(request.practice_id),
            wired.planning,
            utcnow(),
            release_slot,
        )
        return {"notices": outcome.notices, "offers": outcome.offers}
    if "follow_settings" in event:
        page = settings_follow.follow_page(
            FollowSettingsRequest.model_validate(event["follow_settings"]), wired.planning, utcnow()
        )
        return {"followed": page.followed, "changed": page.changed, "more": page.next_after is not None}
    if "offer_wave" in event:
        wave = OfferWaveRequest.model_validate(event["offer_wave"])
        prefetch(keys.profile(wave.practice_id), keys.slot(wave.practice_id, wave.slot_id))
        offered = next_wave(wave, get_practice(wave.practice_id), wired.planning, utcnow())
        return {"offers": offered}
    if "erase" in event:
        erase = EraseRequest.model_validate(event["erase"])
        done = erasure.erase(erase.practice_id, erase.request_id, utcnow(), wired.erasure)
        return {"removed": done.removed, "passes_done": done.passes_done}
    run = offboarding.erase_run(LeaveRequest.model_validate(event["leave"]), wired.leaving, utcnow())
    return {"removed": run.removed, "erased": run.erased, "more": run.more}


def _stream(event: dict[str, Any], wired: table_changes.Planner) -> dict[str, Any]:
    def record_handler(record: dict) -> None:
        table_changes.on_record(record, wired, utcnow())

    return process_stream_batch(event, record_handler)

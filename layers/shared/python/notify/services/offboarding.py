"""D19: a practice leaves the service, and its data goes with it (GDPR art. 28(3)(g): at
the end of the contract a processor deletes the controller's personal data).

1. **Closed** (`python -m ops.practice offboard`): the profile is marked closed and the
   practice's secrets deleted, in one transaction. From then on none of its requests is
   authenticated and no callback is signed; every function that reads the profile finds
   it closed and ends quietly (nothing sent, planned, shown, answered or written: a
   schedule or an escalation that still fires does nothing, and is not retried).
2. **Erased**, starting ERASE_AFTER later: by then every invocation that read the
   profile before it closed has ended (Lambda's longest timeout), so nothing writes for
   the practice any more and one sweep finds everything. The planner runs it from its own
   one-shot schedules, a run at a time (RUN_BUDGET_S of work, then the next run a
   minute later), and each run starts again from the partition's beginning: what an
   earlier run removed is gone, so a run repeated or cut short is harmless.
   - each appointment: its planned messages' schedules, its escalations, its ledger (rows
     and texts), its links, the freed slots it left, the appointment;
   - each recall: its escalations, its ledger, the recall; held changes and erasure
     tombstones; each patient: the push endpoint in SNS, their SMS threads and counters,
     the patient;
   - then the practice's other partitions (answers to texts, erasure requests, SMS
     quotas, blocked numbers, consent records, counters, notices) and the daily recall
     sweep's schedule;
   - last, the profile becomes the record of the leaving: when it closed, when its data
     was erased and how many items went; no settings, no address.

Counters go too: at the contract's end the practice's statistics are its own data, and
the operator's invoice reads the SMS usage before closing (the CLI prints it).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from ..adapters import channels, scheduler
from ..adapters.escalation_machine import Escalations
from ..adapters.link_keys import LinkKeys
from ..adapters.scheduler import SchedulerTarget
from ..contracts import LeaveRequest
from ..dal import erasures, keys
from ..dal import offboarding as store
from ..dal import practices as practice_store
from ..dal.errors import NotFoundError
from ..dal.models import AppointmentItem, LedgerItem, NotifyItem, PatientItem, RecallItem
from ..domain.message_ids import MessageId
from ..domain.message_plan import leave_name, schedule_name
from ..domain.model import Channel, DeliveryStatus
from ..domain.patient_link import token_digest
from ..observability import logger, metrics
from .recalls import sweep_name

# Lambda's longest timeout (15 minutes): an invocation that read the profile before it
# closed has ended by then, whatever the function (tests/infra asserts each function's
# timeout is within it).
ERASE_AFTER = timedelta(minutes=15)
RUN_BUDGET_S = 15.0  # half the planner's timeout: a run never times out
NEXT_RUN_AFTER = timedelta(minutes=1)  # Scheduler's precision


@dataclass(frozen=True)
class Leaving:
    """What the erasure of a practice needs besides the table."""

    links: LinkKeys
    escalations: Escalations
    messages: SchedulerTarget  # the senders' schedules (planned messages)
    itself: SchedulerTarget  # the planner: the next run
    sweeps: SchedulerTarget | None  # the daily recall sweep, where configured


def close(practice_id: str, now: datetime) -> datetime:
    """Close the practice (the operator's command); returns when it closed."""
    closed_at = practice_store.close_practice(practice_id, now)
    logger.info("practice closed", practice_id=practice_id)
    return closed_at


def start(practice_id: str, closed_at: datetime, leaving: Leaving) -> None:
    """The profile's stream record of the close: no more daily recall sweeps; the erasure's
    first run planned ERASE_AFTER the close."""
    _stop_sweeps(practice_id, leaving)
    _plan_run(LeaveRequest(practice_id=practice_id, closed_at=closed_at), closed_at + ERASE_AFTER, leaving)


def _plan_run(request: LeaveRequest, at: datetime, leaving: Leaving) -> None:
    scheduler.plan_schedule(
        leaving.itself,
        leave_name(request.practice_id, request.run),
        at,
        {"leave": request.model_dump(mode="json")},
    )


def _stop_sweeps(practice_id: str, leaving: Leaving) -> None:
    if leaving.sweeps is not None:
        scheduler.cancel_schedule(leaving.sweeps, sweep_name(practice_id))


@dataclass
class RunOutcome:
    removed: int = 0
    schedules: int = 0
    escalations: int = 0
    endpoints: int = 0
    erased: bool = False  # the practice's data is all gone
    more: bool = False  # the next run is planned


def erase_run(request: LeaveRequest, leaving: Leaving, now: datetime) -> RunOutcome:
    """One run of a closed practice's erasure; the next planned when time runs out."""
    outcome = RunOutcome()
    try:
        practice = practice_store.get_practice(request.practice_id, closed_ok=True)
    except NotFoundError:  # erased already (or unknown): nothing left to do
        return outcome
    if practice.closed_at != request.closed_at:
        logger.warning("practice reopened: erasure stopped", practice_id=request.practice_id)
        return outcome
    started = time.monotonic()
    for count, item in enumerate(store.practice_items(request.practice_id)):
        if count and time.monotonic() - started > RUN_BUDGET_S:  # each run removes something
            outcome.more = True
            _plan_run(request.model_copy(update={"run": request.run + 1}), now + NEXT_RUN_AFTER, leaving)
            break
        _remove(item, request.practice_id, leaving, outcome, now)
    else:
        outcome.removed += store.delete_practice_partitions(request.practice_id)
        _stop_sweeps(request.practice_id, leaving)
        outcome.erased = practice_store.mark_erased(request.practice_id, request.closed_at, now, outcome.removed)
    if not outcome.erased and outcome.removed:
        practice_store.count_removed(request.practice_id, request.closed_at, outcome.removed)
    metrics.add_metric(name="PracticeItemsErased", unit="Count", value=outcome.removed)
    logger.info("practice erasure run", practice_id=request.practice_id, run=request.run, **asdict(outcome))
    return outcome


def _remove(item: NotifyItem, practice_id: str, leaving: Leaving, outcome: RunOutcome, now: datetime) -> None:
    if isinstance(item, AppointmentItem):
        # An appointment's escalation always ends before its visit (C1, R6): for a visit
        # past, none can be waiting, and none is looked for.
        waits = item.start > now
        outcome.removed += _remove_ledger(practice_id, item.appointment_id, leaving, outcome, waits)
        for generation in range(1, int(item.link_generation or 1) + 1):
            token = leaving.links.appointment_token(practice_id, item.appointment_id, generation)
            outcome.removed += erasures.delete_link(token_digest(token))
        outcome.removed += store.delete_slots(practice_id, item)
        outcome.removed += erasures.delete_items([item])
    elif isinstance(item, RecallItem):
        recall_id = item.sk.removeprefix(keys.Prefix.RECALL)
        outcome.removed += _remove_ledger(practice_id, f"recall.{recall_id}", leaving, outcome, True)
        outcome.removed += erasures.delete_items([item])
    elif isinstance(item, PatientItem):
        if item.push_endpoint:
            outcome.endpoints += int(channels.delete_endpoint(item.push_endpoint))
        outcome.removed += erasures.delete_patient_items(practice_id, item.patient_id)
    else:  # held changes, erasure tombstones
        outcome.removed += erasures.delete_items([item])


def _remove_ledger(
    practice_id: str, subject_id: str, leaving: Leaving, outcome: RunOutcome, escalations: bool
) -> int:
    """A subject's ledger, once its planned schedules are deleted and its escalations
    stopped (they would fire into a closed practice and do nothing: this is tidiness,
    and no id of the practice is left waiting in Scheduler or Step Functions)."""
    rows = store.ledger_rows(practice_id, subject_id)
    for planned in store.planned_rows(rows):
        message = MessageId.parse(planned.message_id)
        name = schedule_name(practice_id, subject_id, message.kind, message.version, message.offset_hours)
        outcome.schedules += int(scheduler.cancel_schedule(leaving.messages, name))
    for sent in rows if escalations else ():  # an escalation waits after a push or an email (C1, R6, K3)
        if (
            isinstance(sent, LedgerItem)
            and sent.channel in (Channel.PUSH.value, Channel.EMAIL.value)
            and sent.status != DeliveryStatus.SKIPPED.value  # never sent: nothing waits on it
        ):
            outcome.escalations += int(leaving.escalations.stop(practice_id, sent.message_id, "practice left"))
    return erasures.delete_items(rows)

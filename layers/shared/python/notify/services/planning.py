"""Planning an appointment's messages from a stream record (R1-R3, R7, R9, B9).

Messages due later become one-shot schedules named after (appointment, kind, version),
so a replayed record re-creates nothing and a reschedule deletes exactly the old
version's schedules.

Notices (confirmation, reschedule, cancellation) and freed-slot offers wait for the
change to settle (B9): a change plans a "settle" schedule `notice_delay_seconds` later
(60 s), whose firing compares what was last announced with where the appointment ended
and sends only that. A burst of edits, or events delivered out of order, ends in one
notice about the result, never about the states in between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ..adapters import scheduler
from ..adapters.invoker import Invoker
from ..adapters.link_keys import LinkKeys
from ..adapters.scheduler import SchedulerTarget
from ..contracts import SendRequest, SettleRequest
from ..dal import appointments as appointment_store
from ..dal import ledger
from ..dal.errors import ConflictError, NotFoundError
from ..dal.practices import PracticeRecord
from ..domain.message_ids import MessageId
from ..domain.message_plan import (
    needs_settling,
    schedule_name,
    settled_messages,
    settlement_name,
    timed_messages,
    withdrawal_reason,
)
from ..domain.model import Appointment, Channel, DeliveryStatus, MessageKind, PlannedMessage
from ..observability import logger

# A schedule whose time passed while we were planning (stream lag) is sent at once if
# it is this late at most; older ones are recorded as skipped.
CATCH_UP = timedelta(minutes=15)


@dataclass(frozen=True)
class Planning:
    """What the planner plans with (built from its validated settings by the handler)."""

    messages: SchedulerTarget  # one-shot schedules that fire send_push
    settlements: SchedulerTarget  # one-shot schedules that fire the planner itself (B9)
    invoker: Invoker  # send_push, for what is due at once
    links: LinkKeys  # recall links of periods the planner starts (K1)


@dataclass
class PlanOutcome:
    sent_now: list[str] = field(default_factory=list)
    scheduled: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _request(
    appointment: Appointment, kind: MessageKind, scheduled: bool = False, offset_hours: int | None = None
) -> SendRequest:
    return SendRequest.for_appointment(
        appointment.practice_id,
        appointment.appointment_id,
        kind,
        appointment.version,
        scheduled=scheduled,
        offset_hours=offset_hours,
        patient_id=appointment.patient_id,
    )


def _ref(appointment: Appointment, planned: PlannedMessage) -> ledger.MessageRef:
    return ledger.MessageRef(
        appointment.practice_id,
        appointment.appointment_id,
        appointment.patient_id,
        _request(appointment, planned.kind, offset_hours=planned.offset_hours).message_id,
        planned.kind,
    )


def _name(appointment: Appointment, planned: PlannedMessage) -> str:
    return schedule_name(
        appointment.practice_id,
        appointment.appointment_id,
        planned.kind,
        appointment.version,
        planned.offset_hours,
    )


def plan_change(
    old: Appointment | None, new: Appointment | None, practice: PracticeRecord, planning: Planning, now: datetime
) -> PlanOutcome:
    """Bring the schedules in line with the change old -> new, and have it settle."""
    outcome = PlanOutcome()
    if needs_settling(new):
        assert new is not None
        _plan_settlement(new, practice, planning.settlements, now)

    new_plan = {}
    if new is not None:
        settings = practice.settings_for(new.calendar_id)
        new_plan = {_name(new, p): p for p in timed_messages(new, settings)}
    old_plan = {}
    if old is not None:
        old_settings = practice.settings_for(old.calendar_id)
        old_plan = {_name(old, p): p for p in timed_messages(old, old_settings)}
    old_names = old_plan.keys()

    for name in sorted(old_names - new_plan.keys()):
        assert old is not None
        withdrawn = old_plan[name]
        if scheduler.run_its_course(withdrawn.due_at, withdrawn.window_minutes, now):
            continue  # a reminder that went out before the visit's outcome: nothing left to withdraw
        _withdraw(old, withdrawn, planning, now, withdrawal_reason(old, new))
        outcome.cancelled.append(name)

    for name, planned in new_plan.items():
        if name in old_names:
            continue
        assert new is not None
        if planned.due_at <= now:
            if now - planned.due_at <= CATCH_UP:
                planning.invoker.send_now(_request(new, planned.kind, offset_hours=planned.offset_hours))
                outcome.sent_now.append(planned.kind.value)
            else:
                ledger.record_skip(_ref(new, planned), Channel.PUSH, "due time passed before planning", now)
                outcome.skipped.append(name)
            continue
        _plan_message(new, planned, planning, now)
        outcome.scheduled.append(name)
    logger.info(
        "appointment planned",
        appointment_id=(new or old).appointment_id,  # type: ignore[union-attr]
        sent_now=outcome.sent_now,
        scheduled=outcome.scheduled,
        cancelled=outcome.cancelled,
    )
    return outcome


# C8: what a change of the practice's settings does to a message planned before it.
SETTINGS_WITHDREW = "the practice's settings no longer plan this message"
SETTINGS_MOVED = "moved: the practice's settings changed its moment"
SETTINGS_PLANNED = "planned again: the practice's settings plan it once more"


def follow_settings(
    appointment: Appointment, practice: PracticeRecord, planning: Planning, now: datetime
) -> PlanOutcome:
    """C8: bring the appointment's messages due later in line with the practice's settings
    as they are now (a reminder the practice no longer sends is withdrawn, a new one is
    planned, a moved moment moves its schedule), from what the ledger says is planned.
    What has fired stays as it went; a message whose moment has passed is not sent late."""
    outcome = PlanOutcome()
    wanted = {
        _ref(appointment, p).message_id: p
        for p in timed_messages(appointment, practice.settings_for(appointment.calendar_id))
    }
    rows = {
        row.message_id: row for row in ledger.schedule_rows(appointment.practice_id, appointment.appointment_id)
    }
    for message_id, row in rows.items():
        planned, was = wanted.get(message_id), MessageId.parse(message_id)
        if (
            row.status != DeliveryStatus.PLANNED.value
            or was.version != appointment.version  # an earlier state's: its change withdrew it
            or (planned is not None and planned.due_at == row.due_at)
        ):
            continue
        earlier = PlannedMessage(was.kind, row.due_at, was.offset_hours)
        name = _name(appointment, earlier)
        if planned is None:
            _withdraw(appointment, earlier, planning, now, SETTINGS_WITHDREW)
            outcome.cancelled.append(name)
        elif planned.due_at > now and row.due_at is not None and row.due_at > now:  # one due goes as it is
            if scheduler.move_schedule(planning.messages, name, *_schedule_of(appointment, planned)):
                ledger.move_planned(_ref(appointment, earlier), planned.due_at, now, SETTINGS_MOVED)
                outcome.scheduled.append(name)
    for message_id, planned in wanted.items():
        known = rows.get(message_id)
        if planned.due_at <= now or (known is not None and known.status != DeliveryStatus.CANCELLED.value):
            continue
        _plan_message(appointment, planned, planning, now, again=known is not None)
        outcome.scheduled.append(_name(appointment, planned))
    return outcome


def _schedule_of(appointment: Appointment, planned: PlannedMessage) -> tuple[datetime, dict[str, Any], int]:
    """When a planned message's schedule fires, what it asks the sender, its window."""
    request = _request(appointment, planned.kind, scheduled=True, offset_hours=planned.offset_hours)
    return planned.due_at, request.payload(), planned.window_minutes


def _withdraw(
    appointment: Appointment, planned: PlannedMessage, planning: Planning, now: datetime, why: str
) -> None:
    """A message planned before and no longer wanted: its schedule deleted, its row cancelled."""
    scheduler.cancel_schedule(planning.messages, _name(appointment, planned))
    ledger.close_planned(_ref(appointment, planned), DeliveryStatus.CANCELLED, now, why)


def _plan_message(
    appointment: Appointment, planned: PlannedMessage, planning: Planning, now: datetime, again: bool = False
) -> None:
    """A message due later: its one-shot schedule, and its planned ledger row (B5); `again`:
    the row is there, cancelled before (C8: the settings want it once more)."""
    scheduler.plan_schedule(planning.messages, _name(appointment, planned), *_schedule_of(appointment, planned))
    if again:
        ledger.plan_again(_ref(appointment, planned), planned.due_at, now, SETTINGS_PLANNED)
    else:
        ledger.record_planned(_ref(appointment, planned), planned.due_at, now)


def _plan_settlement(
    current: Appointment, practice: PracticeRecord, target: SchedulerTarget, now: datetime, attempt: int = 0
) -> None:
    """The moment this change has settled (named after the state, so a replayed record
    plans nothing new and a later state gets its own)."""
    delay = timedelta(seconds=practice.settings_for(current.calendar_id).notice_delay_seconds)
    request = SettleRequest(practice_id=current.practice_id, appointment_id=current.appointment_id)
    scheduler.plan_schedule(
        target, settlement_name(current, attempt), now + delay, {"settle": request.model_dump()}
    )


@dataclass
class SettleOutcome:
    notices: list[str] = field(default_factory=list)
    offers: list[str] = field(default_factory=list)


Release = Callable[[Appointment | None, Appointment, PracticeRecord, "Planning", datetime], list[str]]


def settle(
    practice_id: str,
    appointment_id: str,
    practice: PracticeRecord,
    planning: Planning,
    now: datetime,
    release: Release,
) -> SettleOutcome:
    """The change has settled: tell the patient what changed since they were last told
    (R1, R3, R5, R6), free the slot the calendar last showed (F1, F3), then record what
    is now announced. Sends come first: a retry after a crash re-sends, and the ledger
    claim keeps each message single; a state announced before its notice went out would
    lose the notice."""
    outcome = SettleOutcome()
    try:
        current, revision = appointment_store.get_appointment(practice_id, appointment_id)
    except NotFoundError:
        return outcome
    for kind in settled_messages(current.announced, current):
        planning.invoker.send_now(_request(current, kind))
        outcome.notices.append(kind.value)
    announced = (
        None
        if current.announced is None
        else replace(
            current,
            start=current.announced.start,
            end=current.announced.end,
            status=current.announced.status,
            version=current.announced.version,
        )
    )
    outcome.offers = release(announced, current, practice, planning, now)
    try:
        appointment_store.mark_announced(current, revision, now)
    except ConflictError:
        # Changed while settling: that change settles in its turn (its own schedule may
        # have been taken by this one's name, so plan one more under a fresh name).
        _plan_settlement(current, practice, planning.settlements, now, attempt=revision + 1)
    logger.info(
        "appointment settled", appointment_id=appointment_id, notices=outcome.notices, offers=len(outcome.offers)
    )
    return outcome

"""Planning an appointment's messages from a stream record (R1-R3, R7, R9).

Immediate messages are handed to send_push at once; later ones become one-shot
schedules named after (appointment, kind, version), so a replayed record re-creates
nothing and a reschedule deletes exactly the old version's schedules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..adapters import invoker, scheduler
from ..adapters.scheduler import SchedulerTarget
from ..dal import ledger
from ..dal.practices import PracticeRecord
from ..domain.message_plan import (
    message_id,
    schedule_name,
    timed_messages,
    transition_messages,
    withdrawal_reason,
)
from ..domain.model import Appointment, Channel, DeliveryStatus, MessageKind
from ..observability import logger

# A schedule whose time passed while we were planning (stream lag) is sent at once if
# it is this late at most; older ones are recorded as skipped.
CATCH_UP = timedelta(minutes=15)


@dataclass
class PlanOutcome:
    sent_now: list[str] = field(default_factory=list)
    scheduled: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _payload(appointment: Appointment, kind: MessageKind) -> dict[str, object]:
    return {"practice_id": appointment.practice_id, "appointment_id": appointment.appointment_id,
            "kind": kind.value, "version": appointment.version}


def _ref(appointment: Appointment, kind: MessageKind) -> ledger.MessageRef:
    return ledger.MessageRef(appointment.practice_id, appointment.appointment_id,
                             appointment.patient_id,
                             message_id(appointment, kind, appointment.version), kind)


def plan_change(old: Appointment | None, new: Appointment | None, practice: PracticeRecord,
                target: SchedulerTarget, now: datetime) -> PlanOutcome:
    """Bring the schedules and immediate sends in line with the change old -> new."""
    outcome = PlanOutcome()
    for kind in transition_messages(old, new):
        assert new is not None
        invoker.send_now(_payload(new, kind))
        outcome.sent_now.append(kind.value)

    new_plan = {}
    if new is not None:
        settings = practice.settings_for(new.calendar_id)
        new_plan = {schedule_name(new.practice_id, new.appointment_id, p.kind, new.version): p
                    for p in timed_messages(new, settings)}
    old_plan = {}
    if old is not None:
        old_settings = practice.settings_for(old.calendar_id)
        old_plan = {schedule_name(old.practice_id, old.appointment_id, p.kind, old.version): p
                    for p in timed_messages(old, old_settings)}
    old_names = old_plan.keys()

    for name in sorted(old_names - new_plan.keys()):
        assert old is not None
        scheduler.cancel_schedule(target, name)
        ledger.close_planned(_ref(old, old_plan[name].kind), DeliveryStatus.CANCELLED, now,
                             withdrawal_reason(old, new))
        outcome.cancelled.append(name)

    for name, planned in new_plan.items():
        if name in old_names:
            continue
        assert new is not None
        if planned.due_at <= now:
            if now - planned.due_at <= CATCH_UP:
                invoker.send_now(_payload(new, planned.kind))
                outcome.sent_now.append(planned.kind.value)
            else:
                ledger.record_skip(_ref(new, planned.kind), Channel.PUSH,
                                   "due time passed before planning", now)
                outcome.skipped.append(name)
            continue
        scheduler.plan_schedule(target, name, planned.due_at,
                                {**_payload(new, planned.kind), "scheduled": True})
        ledger.record_planned(_ref(new, planned.kind), planned.due_at, now)
        outcome.scheduled.append(name)
    logger.info("appointment planned", appointment_id=(new or old).appointment_id,  # type: ignore[union-attr]
                sent_now=outcome.sent_now, scheduled=outcome.scheduled,
                cancelled=outcome.cancelled)
    return outcome

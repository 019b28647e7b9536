"""What a change in the table causes later (the planner's one entry point): for an
appointment its message plan, its settlement (notices, freed slot: B9, F1) and recall
side effects (K1, K2); for a practice profile its daily recall schedule (K1) and, when
its settings changed, the follow-up of the appointments booked before (C8), and when it
closed, the practice's erasure (D19); for a manual recall its send (K4, K5); for an
erasure request its first pass (P1). A change of a closed practice causes nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..adapters.scheduler import SchedulerTarget
from ..dal.errors import PracticeClosedError
from ..dal.practices import get_practice
from ..domain.message_plan import needs_settling
from ..domain.model import Appointment
from ..observability import logger
from . import erasure, offboarding, recalls, settings_follow
from .planning import Planning, plan_change
from .stream_records import (
    appointment_images,
    changed_configuration,
    closure,
    erasure_requested,
    practice_id_of_profile,
)


@dataclass(frozen=True)
class Planner:
    planning: Planning
    erasure: erasure.ErasureDeps
    sweeps: SchedulerTarget | None  # the daily recall sweep (K1), where configured
    leaving: offboarding.Leaving


def on_record(raw_record: dict[str, Any], planner: Planner, now: datetime) -> None:
    try:
        _on_record(raw_record, planner, now)
    except PracticeClosedError as closed:  # D19: its erasure takes care of what is left
        logger.info("practice closed: change ignored", practice_id=closed.practice_id)


def _on_record(raw_record: dict[str, Any], planner: Planner, now: datetime) -> None:
    practice_id = practice_id_of_profile(raw_record)
    if practice_id is not None:
        closed = closure(raw_record)
        if closed.closed_at is not None:
            offboarding.start(practice_id, closed.closed_at, planner.leaving)
        if closed.closed:
            return
        if planner.sweeps is not None:
            recalls.plan_daily_sweep(get_practice(practice_id), planner.sweeps)
        digest = changed_configuration(raw_record)
        if digest is not None:  # C8: the appointments booked before follow the new settings
            settings_follow.start(practice_id, digest, planner.planning, now)
        return
    requested = erasure_requested(raw_record)
    if requested is not None:
        erasure.erase(*requested, now, planner.erasure)
        return
    if recalls.on_recall_record(raw_record, planner.planning.invoker):
        return
    images = appointment_images(raw_record)
    if images is None:
        return
    old, new = images
    if old is not None and new is not None and _only_announcement(old, new):
        return  # the settle recorded what it told: nothing to plan, no settings to read
    current = new or old
    assert current is not None
    practice = get_practice(current.practice_id)
    plan_change(old, new, practice, planner.planning, now)
    recalls.on_appointment_change(old, new, practice, now, planner.planning.links)


def _only_announcement(old: Appointment, new: Appointment) -> bool:
    """The change is the settle's own record of what was announced (B9), and the state
    now matches it: the plan (made from everything else) and the recall side effects
    (status changes) are as they were."""
    return replace(old, announced=None) == replace(new, announced=None) and not needs_settling(new)

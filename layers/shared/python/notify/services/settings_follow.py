"""C8: a change of a practice's settings reaches the messages planned before it.

Reminders and after-visit messages are planned when an appointment changes, from the
settings of that moment. When the practice changes its settings (its reminders, quiet
hours, time zone, review or booking page), the appointments it has booked follow: a
reminder it no longer sends is withdrawn, a new one is planned, a moved moment moves its
schedule (services/planning.py `follow_settings`, from what the ledger says is planned).
Recalls a visit started and not yet sent follow the practice's recall rules the same way
(a new interval moves the due day, a rule gone ends the recall: services/recalls.py
`follow_rules`); they come after the appointments, in the same pages.

A practice has thousands of appointments, and the stream must not wait for them: the
profile's stream record plans the first page on a one-shot schedule of the planner, and
each page (up to a thousand appointments, or 15 s of work) plans the next, a minute
later. A page whose configuration is no longer the practice's stops: the newer change
follows every appointment itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..adapters import scheduler
from ..contracts import FollowSettingsRequest
from ..dal import appointments as appointment_store
from ..dal import recalls as recall_store
from ..dal.keys import Prefix
from ..dal.practices import PracticeRecord, get_practice
from ..domain.message_plan import follow_settings_name
from ..domain.model import Appointment, Recall
from ..observability import logger, metrics
from .planning import Planning, follow_settings
from .recalls import follow_rules

# Appointments followed per run, at most: a ledger read each, and two requests (its
# schedule, its row) per message whose plan changed. A run also stops after RUN_BUDGET_S
# of its own (half the planner's 30 s timeout), so a page of changes cannot time out; a
# run of unchanged appointments (10 ms each) gets through a thousand.
PAGE = 1000
RUN_BUDGET_S = 15.0
NEXT_PAGE_AFTER = timedelta(minutes=1)  # Scheduler's precision
# An appointment whose visit is this long past has nothing planned any more (the prompt
# to book again goes 20 hours after the visit): skipped without reading its ledger.
LOOK_BACK = timedelta(days=2)


def start(practice_id: str, digest: str, planning: Planning, now: datetime) -> None:
    """Plan the first page of the follow-up of a settings change."""
    _plan_page(FollowSettingsRequest(practice_id=practice_id, configuration=digest), planning, now)


def _plan_page(request: FollowSettingsRequest, planning: Planning, now: datetime) -> None:
    scheduler.plan_schedule(
        planning.settlements,
        follow_settings_name(request.practice_id, request.configuration, request.after),
        now + NEXT_PAGE_AFTER,
        {"follow_settings": request.model_dump(exclude_none=True)},
    )


def _subjects(practice_id: str, after: str | None) -> Iterator[tuple[str, Appointment | Recall]]:
    """The practice's appointments, then its recalls, each with its sort key, from after
    the sort key `after` (the page before's last)."""
    if after is None or after.startswith(Prefix.APPOINTMENT):
        yield from appointment_store.appointments_from(practice_id, after)
        after = None
    yield from recall_store.recalls_from(practice_id, after)


@dataclass
class PageOutcome:
    followed: int = 0
    changed: list[str] = field(default_factory=list)
    next_after: str | None = None
    superseded: bool = False


def follow_page(request: FollowSettingsRequest, planning: Planning, now: datetime) -> PageOutcome:
    """One page of appointments brought in line with the practice's settings; the next
    page planned if there is one."""
    outcome = PageOutcome()
    practice: PracticeRecord = get_practice(request.practice_id)
    if practice.configuration != request.configuration:
        outcome.superseded = True  # a newer change follows every appointment itself
        return outcome
    started, done = time.monotonic(), None
    for sort_key, subject in _subjects(request.practice_id, request.after):
        if done is not None and (outcome.followed >= PAGE or time.monotonic() - started > RUN_BUDGET_S):
            outcome.next_after = done  # the next page goes on from here
            break
        if isinstance(subject, Recall):
            followed = follow_rules(subject, practice, now, planning.links)
            outcome.followed += 1
            outcome.changed += [f"{subject.recall_id}: {followed}"] if followed else []
        elif subject.end >= now - LOOK_BACK:  # else long over: nothing planned, no ledger read
            planned = follow_settings(subject, practice, planning, now)
            outcome.followed += 1
            outcome.changed += planned.cancelled + planned.scheduled
        done = sort_key
    if outcome.next_after is not None:
        _plan_page(request.model_copy(update={"after": outcome.next_after}), planning, now)
    metrics.add_metric(name="SettingsFollowed", unit="Count", value=outcome.followed)
    logger.info(
        "settings followed",
        practice_id=request.practice_id,
        followed=outcome.followed,
        changed=len(outcome.changed),
        more=outcome.next_after is not None,
    )
    return outcome

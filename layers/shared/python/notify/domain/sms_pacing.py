"""Pacing SMS to the rates AWS allows (issue 16, D17).

AWS limits SMS per account (message parts per second, 20 by default) and per origination
identity (a long code, a toll-free number, a sender id: each has its own rate). Sent
faster, SNS throttles and the message is retried and at last dead-lettered. So every SMS
reserves a moment to leave ("virtual scheduling", the generic cell rate algorithm): each
rate is a counter holding the earliest moment its next part may leave; an SMS of n parts
takes the later of now and that moment, and moves the counter n / rate seconds on. The SMS
leaves at the latest of the moments its counters gave. Leaving at once is the common case;
otherwise the SMS waits in the paced queue until its moment, keeping its place: those
queued earlier leave earlier (nothing is refused, so no crowd retries at once).

Urgent SMS never wait behind routine ones: each rate is split into two lanes, urgent
(URGENT_SHARE of it) and routine (the rest), with counters of their own, so the total never
exceeds the rate and a morning's backlog of reminders leaves the escalations and offers
untouched. The price: while no urgent SMS is waiting, routine ones use only their share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .model import MessageKind

# The share of each rate kept for urgent SMS unless the deployment sets another
# (SmsUrgentSharePercent): about what urgent SMS are of all SMS parts
# in `make scale`'s national day (26% of the day, 28% of its busiest five minutes).
URGENT_SHARE = 0.3
# SMS whose worth is in being prompt: a cancellation or reschedule notice, a freed-slot
# offer (F1: first come, first served), and every escalation of an unanswered message (C1,
# R6: it already waited for an answer).
URGENT_KINDS = frozenset({MessageKind.CANCELLATION, MessageKind.RESCHEDULE, MessageKind.SLOT_OFFER})
# An SMS whose moment is at most this far ahead leaves at once (a second's worth of burst).
TOLERANCE = timedelta(seconds=1)
# SQS holds a message back for at most 15 minutes (DelaySeconds <= 900); a longer wait is
# queued again when it comes back.
MAX_QUEUE_DELAY = timedelta(seconds=900)
ACCOUNT = "account"


class Lane(StrEnum):
    URGENT = "urgent"
    ROUTINE = "routine"


def lane_for(kind: MessageKind, escalation: bool) -> Lane:
    return Lane.URGENT if escalation or kind in URGENT_KINDS else Lane.ROUTINE


@dataclass(frozen=True)
class Rate:
    """One lane of one rate: `scope` is the account or a destination country's identity."""

    scope: str
    lane: Lane
    parts_per_second: float

    @property
    def counter(self) -> str:
        return f"{self.scope}#{self.lane}"

    def spacing(self, parts: int) -> timedelta:
        """How far `parts` parts move this lane's counter on."""
        return timedelta(seconds=parts / self.parts_per_second)


def share(lane: Lane, urgent_share: float = URGENT_SHARE) -> float:
    """The part of each rate the lane has (the deployment sets the urgent lane's share:
    SmsUrgentSharePercent)."""
    return urgent_share if lane is Lane.URGENT else 1 - urgent_share


def rates(
    account_rate: float, country: str, identity_rate: float | None, lane: Lane, urgent_share: float = URGENT_SHARE
) -> tuple[Rate, ...]:
    """The lanes an SMS to `country` reserves on: the account's, and its identity's when
    the deployment names that identity's rate (without one, only the account's applies)."""
    part = share(lane, urgent_share)
    found = [Rate(ACCOUNT, lane, account_rate * part)]
    if identity_rate is not None:
        found.append(Rate(country, lane, identity_rate * part))
    return tuple(found)


def leaves_now(moment: datetime, now: datetime) -> bool:
    return moment <= now + TOLERANCE


def queue_delay(moment: datetime, now: datetime) -> int:
    """Whole seconds SQS should hold an SMS back to leave at `moment` (at most 900)."""
    wait = min(moment - now, MAX_QUEUE_DELAY).total_seconds()
    return max(0, int(-(-wait // 1)))

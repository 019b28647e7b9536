"""The delivery ledger (B5) and the send claim that makes every send happen once (B4).

A message on a channel is claimed by a conditional put before anything is sent; a
second delivery of the same firing finds the claim and sends nothing. A message due
later also has a row on the pseudo-channel `schedule` from the moment it is planned:
planned (with its due time), then fired or cancelled, whichever happens first.

What a sent message said (text, subject, link, masked recipient) is kept beside its row
in a content item that expires at the practice's retention (P2): the row stays, the
content goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from ..domain.model import Channel, DeliveryStatus, MessageKind
from . import keys, read_cache
from .errors import condition_held
from .models import LedgerContentItem, LedgerHistory, LedgerItem, NotifyItem


@dataclass(frozen=True)
class MessageRef:
    practice_id: str
    appointment_id: str
    patient_id: str
    message_id: str
    kind: MessageKind


SCHEDULE = "schedule"


def _key(ref: MessageRef, channel: Channel | str) -> tuple[str, str]:
    return LedgerItem.key(ref.practice_id, ref.appointment_id, ref.message_id, str(channel))


def _new(
    ref: MessageRef, channel: Channel | str, status: DeliveryStatus, now: datetime, reason: str | None = None
) -> LedgerItem:
    return LedgerItem(
        *_key(ref, channel),
        practice_id=ref.practice_id,
        appointment_id=ref.appointment_id,
        patient_id=ref.patient_id,
        message_id=ref.message_id,
        kind=str(ref.kind),
        channel=str(channel),
        status=status.value,
        reason=reason,
        created_at=now,
        updated_at=now,
        gsi2pk=keys.patient_items(ref.practice_id, ref.patient_id),
        gsi2sk=f"{now.isoformat()}#{ref.message_id}#{channel}",
        history=[LedgerHistory(at=now, status=status.value, reason=reason)],
    )


CLAIM_LEASE = timedelta(minutes=2)


def claim(ref: MessageRef, channel: Channel, now: datetime) -> bool:
    """Claim the right to send; False if this message/channel is sent or being sent.

    A claim left by a crashed attempt (lease expired) or a failed send can be taken
    again, so a retry still delivers; a second delivery of a sent message cannot.
    """
    item = _new(ref, channel, DeliveryStatus.PLANNED, now)
    item.lease_until = now + CLAIM_LEASE
    return condition_held(
        lambda: item.save(
            condition=LedgerItem.pk.does_not_exist()
            | (LedgerItem.status == DeliveryStatus.FAILED.value)
            | ((LedgerItem.status == DeliveryStatus.PLANNED.value) & (LedgerItem.lease_until < now))
        )
    )


def claim_queued(ref: MessageRef, now: datetime) -> bool:
    """D17: take a queued SMS to send it; False if another delivery of it took it (a
    taker that crashed leaves its claim to lapse, and the queue brings the SMS back)."""
    item = LedgerItem(*_key(ref, Channel.SMS))
    return condition_held(
        lambda: item.update(
            actions=[
                LedgerItem.status.set(DeliveryStatus.PLANNED.value),
                LedgerItem.lease_until.set(now + CLAIM_LEASE),
                LedgerItem.updated_at.set(now),
            ],
            condition=(LedgerItem.status == DeliveryStatus.QUEUED.value)
            | ((LedgerItem.status == DeliveryStatus.PLANNED.value) & (LedgerItem.lease_until < now)),
        )
    )


def record_skip(
    ref: MessageRef, channel: Channel, reason: str, now: datetime, covered_by: str | None = None
) -> None:
    """Record a skipped channel with its reason (C5, C7, R3...). First record wins.
    `covered_by`: the grouped message that listed this one (R11; erasure finds it so)."""
    item = _new(ref, channel, DeliveryStatus.SKIPPED, now, reason)
    item.covered_by = covered_by
    condition_held(lambda: item.save(condition=LedgerItem.pk.does_not_exist()))


def record_skips(ref: MessageRef, skipped: Sequence[tuple[Channel, str]], now: datetime) -> None:
    """The channels a message skips, with their reasons: together in one transaction (one
    request; first record wins for each). A second delivery finds some recorded and
    records each on its own, as `record_skip` does."""
    if len(skipped) > 1:
        try:
            with read_cache.transaction() as tx:
                for channel, reason in skipped:
                    tx.save(
                        _new(ref, channel, DeliveryStatus.SKIPPED, now, reason),
                        condition=LedgerItem.pk.does_not_exist(),
                    )
            return
        except TransactWriteError as exc:
            if not _condition_failed(exc):
                raise
    for channel, reason in skipped:
        record_skip(ref, channel, reason, now)


def covered(practice_id: str, subject_id: str, group_message_id: str) -> list[LedgerItem]:
    """R11: `subject_id`'s rows a grouped message covers (recorded as sent with it)."""
    rows = LedgerItem.query(
        keys.ledger(practice_id, subject_id), filter_condition=LedgerItem.covered_by == group_message_id
    )
    return [row for row in rows if isinstance(row, LedgerItem)]


def uncover(rows: list[LedgerItem], group_message_id: str, reason: str, now: datetime) -> int:
    """R11: rows covered by a grouped message that left without them (written again, or
    not at all) are covered no longer (nothing listed them; erasure need not look there);
    each row stays skipped, its reason and history say why. How many rows changed."""
    return sum(_uncover_row(row, group_message_id, reason, now) for row in rows)


def _uncover_row(row: LedgerItem, group_message_id: str, reason: str, now: datetime) -> bool:
    actions = [*_moved(DeliveryStatus(row.status), now, reason), LedgerItem.covered_by.remove()]
    # Once: a second delivery of the same SMS finds it uncovered already.
    return condition_held(lambda: row.update(actions=actions, condition=LedgerItem.covered_by == group_message_id))


def record_planned(ref: MessageRef, due_at: datetime, now: datetime) -> None:
    """A message is due later (its schedule exists). A replayed plan changes nothing."""
    item = _new(ref, SCHEDULE, DeliveryStatus.PLANNED, now)
    item.due_at = due_at
    condition_held(lambda: item.save(condition=LedgerItem.pk.does_not_exist()))


CLOSED_PLAN_RETENTION = timedelta(days=30)


def close_planned(ref: MessageRef, status: DeliveryStatus, now: datetime, reason: str | None = None) -> bool:
    """planned -> fired / cancelled, once: a second firing or cancel finds it closed. A
    closed plan is bookkeeping: it expires CLOSED_PLAN_RETENTION later (P2)."""
    item = LedgerItem(*_key(ref, SCHEDULE))
    actions = _moved(status, now, reason, expires_at=now + CLOSED_PLAN_RETENTION)
    return condition_held(
        lambda: item.update(actions=actions, condition=LedgerItem.status == DeliveryStatus.PLANNED.value)
    )


def schedule_rows(practice_id: str, appointment_id: str) -> list[LedgerItem]:
    """Every message of the appointment planned for later, whatever became of it (planned,
    fired, cancelled): its rows on the pseudo-channel `schedule`."""
    rows = LedgerItem.query(
        keys.ledger(practice_id, appointment_id), filter_condition=LedgerItem.channel == SCHEDULE
    )
    return [row for row in rows if isinstance(row, LedgerItem)]


def move_planned(ref: MessageRef, due_at: datetime, now: datetime, reason: str) -> bool:
    """C8: a message still planned is now due at `due_at` (its schedule moved with it);
    False when it fired or was cancelled meanwhile."""
    item = LedgerItem(*_key(ref, SCHEDULE))
    actions = _moved(DeliveryStatus.PLANNED, now, reason, due_at=due_at)
    return condition_held(
        lambda: item.update(actions=actions, condition=LedgerItem.status == DeliveryStatus.PLANNED.value)
    )


def plan_again(ref: MessageRef, due_at: datetime, now: datetime, reason: str) -> bool:
    """C8: a message withdrawn before is planned again (the practice's settings want it
    once more): cancelled -> planned, kept until it fires or is withdrawn again."""
    item = LedgerItem(*_key(ref, SCHEDULE))
    actions = [*_moved(DeliveryStatus.PLANNED, now, reason, due_at=due_at), LedgerItem.expires_at.remove()]
    return condition_held(
        lambda: item.update(actions=actions, condition=LedgerItem.status == DeliveryStatus.CANCELLED.value)
    )


def transition(
    ref: MessageRef,
    channel: Channel | str,
    status: DeliveryStatus,
    now: datetime,
    reason: str | None = None,
    content: Content | None = None,
    along: Sequence[Mark] = (),
    latest: tuple[NotifyItem, Condition] | None = None,
    **fields: object,
) -> None:
    """Move a claimed entry to `status`, appending to its history; with `content` (what
    a sent message said, P2), the row and its content in one transaction: one request,
    and never a sent row without its content or content without its row. `along`: the
    message's rows on other channels that move with it (an escalation's SMS and the push
    it escalated), in the same transaction. `latest`: an item written with it on its
    condition (T1's thread: unless a newer one is there), left out when that fails."""
    item = LedgerItem(*_key(ref, channel))
    actions = _moved(status, now, reason, **fields)
    if content is None and not along and latest is None:
        item.update(actions=actions, condition=LedgerItem.pk.exists())
        return

    def write(extra: tuple[NotifyItem, Condition] | None) -> None:
        with read_cache.transaction() as tx:
            tx.update(item, actions=actions, condition=LedgerItem.pk.exists())
            if content is not None:
                tx.save(_content_item(ref, str(channel), content, now))
            for mark in along:
                other = LedgerItem(*_key(ref, mark.channel))
                tx.update(other, actions=_moved(mark.status, now, mark.reason), condition=LedgerItem.pk.exists())
            if extra is not None:
                tx.save(extra[0], condition=extra[1])

    try:
        write(latest)
    except TransactWriteError as exc:
        if latest is None or not _condition_failed(exc):
            raise
        write(None)  # a newer one is there: it stays (a refused row fails again, and raises)


def _condition_failed(exc: TransactWriteError) -> bool:
    return any(r and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons)


@dataclass(frozen=True)
class Mark:
    """A row of the same message that moves with another's transition."""

    channel: Channel
    status: DeliveryStatus
    reason: str


def _moved(status: DeliveryStatus, now: datetime, reason: str | None, **fields: object) -> list[Action]:
    actions: list[Action] = [
        LedgerItem.status.set(status.value),
        LedgerItem.updated_at.set(now),
        LedgerItem.history.set(
            LedgerItem.history.append([LedgerHistory(at=now, status=status.value, reason=reason)])
        ),
    ]
    if reason is not None:
        actions.append(LedgerItem.reason.set(reason))
    for name, value in fields.items():
        actions.append(getattr(LedgerItem, name).set(value))
    return actions


@dataclass(frozen=True)
class Content:
    """What a sent message said, and until when we keep it (P2)."""

    text: str | None
    subject: str | None
    link: str | None
    recipient: str | None
    keep_until: datetime


def _content_item(ref: MessageRef, channel: str, content: Content, now: datetime) -> LedgerContentItem:
    item = LedgerContentItem(
        *LedgerContentItem.key(ref.practice_id, ref.appointment_id, ref.message_id, channel),
        text=content.text,
        subject=content.subject,
        link=content.link,
        recipient=content.recipient,
        gsi2pk=keys.patient_items(ref.practice_id, ref.patient_id),
        gsi2sk=f"{now.isoformat()}#{ref.message_id}#{channel}#content",
    )
    item.expires_at = content.keep_until
    return item


EVENT = "event"  # the ledger's pseudo-channel of practice events (B9 stale ones)


def event_row(
    practice_id: str, subject_id: str, patient_id: str, event: tuple[str, str], reason: str, now: datetime
) -> LedgerItem:
    """A practice event that had no effect (stale, B9), on the subject's ledger."""
    event_id, event_type = event
    ref = MessageRef(practice_id, subject_id, patient_id, f"event.{event_id}", event_type)  # type: ignore[arg-type]
    return _new(ref, EVENT, DeliveryStatus.STALE, now, reason)


def get_entries(ref: MessageRef, *channels: Channel) -> list[LedgerItem | None]:
    """The message's rows on these channels, read together (one request)."""
    read_cache.prefetch(*(_key(ref, channel) for channel in channels))
    return [get_entry(ref, channel) for channel in channels]


def content_key(ref: MessageRef, channel: Channel) -> tuple[str, str]:
    return LedgerContentItem.key(ref.practice_id, ref.appointment_id, ref.message_id, str(channel))


def get_content(ref: MessageRef, channel: Channel) -> LedgerContentItem | None:
    try:
        return LedgerContentItem.get(*content_key(ref, channel), consistent_read=True)
    except LedgerContentItem.DoesNotExist:
        return None


def entry_key(ref: MessageRef, channel: Channel) -> tuple[str, str]:
    return _key(ref, channel)


def get_entry(ref: MessageRef, channel: Channel) -> LedgerItem | None:
    try:
        return LedgerItem.get(*_key(ref, channel), consistent_read=True)
    except LedgerItem.DoesNotExist:
        return None


@dataclass(frozen=True)
class Entry:
    """A ledger row with its content, if still kept."""

    row: LedgerItem
    content: LedgerContentItem | None


def _entries(items: Sequence[object], now: datetime) -> list[Entry]:
    """Rows with their content. Content past its time is gone even before DynamoDB's TTL
    process deletes it (up to two days later, P2)."""
    contents = {
        i.sk.removesuffix("#content"): i
        for i in items
        if isinstance(i, LedgerContentItem) and (i.expires_at is None or i.expires_at > now)
    }
    return [Entry(i, contents.get(i.sk)) for i in items if isinstance(i, LedgerItem)]


def for_subject(practice_id: str, subject_id: str, now: datetime) -> list[Entry]:
    """The ledger of one appointment (or recall, or patient)."""
    return _entries(list(NotifyItem.query(keys.ledger(practice_id, subject_id))), now)


def for_patient(practice_id: str, patient_id: str, now: datetime) -> list[Entry]:
    """Every message of one patient (its appointments' and recalls'), in time order (gsi2)."""
    return _entries(list(NotifyItem.patient_index.query(keys.patient_items(practice_id, patient_id))), now)

"""Recalls (K1, K2) and the blocked communication list (K4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.expressions.update import Action

from ..domain import patient_link
from ..domain.model import Recall, RecallCategory, RecallStatus
from . import keys
from .errors import condition_held
from .models import BlockedNumberItem, NotifyItem, RecallItem, practice_items_from


def _due_sort(recall: Recall) -> str:
    return f"{keys.moment(recall.due_at)}#{recall.recall_id}"


def recall_item(recall: Recall, now: datetime, token_digest: str) -> RecallItem:
    """The item of a recall period; `token_digest` finds it by its link's token (K2)."""
    item = RecallItem(
        *RecallItem.key(recall.practice_id, recall.recall_id),
        practice_id=recall.practice_id,
        patient_id=recall.patient_id,
        recall_type=recall.recall_type,
        category=recall.category.value,
        due_at=recall.due_at,
        status=recall.status.value,
        token_expires_at=patient_link.recall_link_expiry(recall.due_at),
        source=recall.source,
        updated_at=now,
        visit_end=recall.visit_end,
        visit_type=recall.visit_type or None,
        calendar_id=recall.calendar_id,
        gsi2pk=keys.recall_token(token_digest),
        gsi2sk="RECALL",
    )
    if recall.status is RecallStatus.DUE:
        item.gsi1pk = keys.recall_due(recall.practice_id)
        item.gsi1sk = _due_sort(recall)
    return item


def _from_item(item: RecallItem) -> Recall:
    return Recall(
        practice_id=item.practice_id,
        patient_id=item.patient_id,
        recall_type=item.recall_type,
        category=RecallCategory(item.category),
        due_at=item.due_at,
        status=RecallStatus(item.status),
        source=item.source,
        booked_appointment_id=item.booked_appointment_id or "",
        visit_end=item.visit_end,
        visit_type=item.visit_type or "",
        calendar_id=item.calendar_id,
    )


def from_image(image: dict[str, Any]) -> Recall | None:
    """A recall from a stream image, None for anything else."""
    if not image.get("sk", {}).get("S", "").startswith(keys.Prefix.RECALL):
        return None
    return _from_item(RecallItem.from_raw_data(image))


def start_period(recall: Recall, now: datetime, token_digest: str) -> bool:
    """Make `recall` the patient's current recall of its type unless one with the same
    or a later due date exists (a replayed visit changes nothing). True if written."""
    item = recall_item(recall, now, token_digest)
    return condition_held(
        lambda: item.save(condition=RecallItem.pk.does_not_exist() | (RecallItem.due_at < recall.due_at))
    )


def replace_period(recall: Recall, now: datetime, token_digest: str, was: Recall) -> bool:
    """C8: the practice's recall rules changed, and the period `was` (not yet sent: due,
    or stopped by the rules) is now `recall` (another due date or category, due again).
    False when it was sent, booked or replaced meanwhile."""
    item = recall_item(recall, now, token_digest)
    return condition_held(
        lambda: item.save(condition=(RecallItem.due_at == was.due_at) & (RecallItem.status == was.status.value))
    )


def recalls_from(practice_id: str, after: str | None) -> Iterator[tuple[str, Recall]]:
    """The practice's recalls in id order, each with its sort key, from after the sort key
    `after` (models.practice_items_from)."""
    for item in practice_items_from(RecallItem, practice_id, keys.Prefix.RECALL, after):
        yield item.sk, _from_item(item)


def due_recalls(practice_id: str, now: datetime, limit: int = 500) -> list[Recall]:
    """Who is due now, earliest first, from the due queue (no scan)."""
    ceiling = f"{keys.moment(now)}#~"
    items = RecallItem.calendar_index.query(
        keys.recall_due(practice_id), NotifyItem.gsi1sk <= ceiling, limit=limit
    )
    return [_from_item(i) for i in items if isinstance(i, RecallItem)]


def get_recall(practice_id: str, recall_id: str) -> Recall | None:
    try:
        return _from_item(RecallItem.get(*RecallItem.key(practice_id, recall_id), consistent_read=True))
    except RecallItem.DoesNotExist:
        return None


def recalls_of_patient(practice_id: str, patient_id: str) -> list[Recall]:
    prefix = f"{keys.Prefix.RECALL}{patient_id}."
    return [
        _from_item(i)
        for i in RecallItem.query(keys.practice(practice_id), RecallItem.sk.startswith(prefix))
        if isinstance(i, RecallItem)
    ]


def find_by_token(token: str, now: datetime) -> Recall | None:
    """The recall whose link carries `token`, while the link is valid (P3: recall links
    expire)."""
    for item in RecallItem.patient_index.query(keys.recall_token(patient_link.token_digest(token))):
        if isinstance(item, RecallItem) and (item.token_expires_at is None or item.token_expires_at > now):
            return _from_item(item)
    return None


def move_status(
    recall: Recall,
    to: RecallStatus,
    from_statuses: tuple[RecallStatus, ...],
    now: datetime,
    booked_appointment_id: str | None = None,
) -> bool:
    """Conditional status change of this recall period; leaving DUE leaves the queue."""
    item = RecallItem(*RecallItem.key(recall.practice_id, recall.recall_id))
    actions: list[Action] = [RecallItem.status.set(to.value), RecallItem.updated_at.set(now)]
    if to is not RecallStatus.DUE:
        actions += [NotifyItem.gsi1pk.remove(), NotifyItem.gsi1sk.remove()]
    if booked_appointment_id:
        actions.append(RecallItem.booked_appointment_id.set(booked_appointment_id))
    return condition_held(
        lambda: item.update(
            actions=actions,
            condition=(RecallItem.due_at == recall.due_at)
            & RecallItem.status.is_in(*(s.value for s in from_statuses)),
        )
    )


def set_blocked(practice_id: str, number: str, blocked_recalls: bool, now: datetime) -> None:
    BlockedNumberItem(
        *BlockedNumberItem.key(practice_id, number),
        practice_id=practice_id,
        number=number,
        blocked_recalls=blocked_recalls,
        updated_at=now,
    ).save()


def is_blocked_for_recalls(practice_id: str, number: str) -> bool:
    try:
        item = BlockedNumberItem.get(*BlockedNumberItem.key(practice_id, number), consistent_read=True)
    except BlockedNumberItem.DoesNotExist:
        return False
    return bool(item.blocked_recalls)


def blocked_numbers(practice_id: str) -> list[dict[str, Any]]:
    pk = BlockedNumberItem.key(practice_id, "")[0]
    return [
        {"number": i.number, "blocked_recalls": i.blocked_recalls, "updated_at": i.updated_at.isoformat()}
        for i in BlockedNumberItem.query(pk)
        if isinstance(i, BlockedNumberItem)
    ]

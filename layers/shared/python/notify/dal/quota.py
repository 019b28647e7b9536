"""Monthly SMS quota per practice (C7) as an atomic conditional counter."""

from __future__ import annotations

from .errors import condition_held
from .models import QuotaItem


def consume_sms(practice_id: str, month: str, quota: int, parts: int = 1) -> int | None:
    """Count `parts` SMS against the month's quota; return the new total, or None at quota.

    The check and the increment are one conditional update, so concurrent senders can
    never push the total past the quota.
    """
    if parts > quota:
        return None
    item = QuotaItem(*QuotaItem.key(practice_id, month))
    counted = condition_held(
        lambda: item.update(
            actions=[QuotaItem.used.add(parts), QuotaItem.entity.set(QuotaItem)],
            condition=QuotaItem.used.does_not_exist() | (QuotaItem.used <= quota - parts),
        )
    )
    return int(item.used) if counted else None


def sms_used(practice_id: str, month: str) -> int:
    try:
        return int(QuotaItem.get(*QuotaItem.key(practice_id, month)).used)
    except QuotaItem.DoesNotExist:
        return 0


def refund_sms(practice_id: str, month: str, parts: int) -> None:
    """Give back parts counted for an SMS the provider never took (a retry counts again)."""
    QuotaItem(*QuotaItem.key(practice_id, month)).update(actions=[QuotaItem.used.add(-parts)])

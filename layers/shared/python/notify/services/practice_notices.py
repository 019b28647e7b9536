"""Delivering practice callbacks from their stream records (B6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..adapters.practice_callbacks import post_callback
from ..dal import practices as practice_store
from ..dal.callbacks import from_image
from ..observability import logger, metrics


def deliver_notice(raw_record: dict[str, Any], now: datetime) -> bool:
    """POST the callback of a new CALLBACK item; False when there is nothing to send.

    Raises CallbackError when the practice's endpoint fails: the stream retries the
    record (bounded) and then parks it in the dead-letter queue.
    """
    stream = raw_record.get("dynamodb", {})
    if raw_record.get("eventName") != "INSERT" or "NewImage" not in stream:
        return False
    item = from_image(stream["NewImage"])
    practice = practice_store.get_practice(item.practice_id)
    if not practice.callback_url:
        return False
    post_callback(practice.callback_url, practice.webhook_secret, dict(item.payload), int(now.timestamp()))
    metrics.add_metric(name="PracticeCallbacks", unit="Count", value=1)
    logger.info("practice notified", event_type=item.event_type)
    return True

"""Delivering practice callbacks from their stream records (B6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..adapters.practice_callbacks import post_callback
from ..dal import callbacks as callback_store
from ..dal import keys, read_cache
from ..dal import practices as practice_store
from ..dal.errors import PracticeClosedError
from ..observability import logger, metrics
from . import practice_keys


def deliver_notice(
    raw_record: dict[str, Any], now: datetime, secrets_key_arn: str, loopback_http: bool = False
) -> bool:
    """POST the callback of a new CALLBACK item; False when there is nothing to send.

    A callback whose item is gone (its patient was erased, P1) is not sent. Raises
    CallbackError when the practice's endpoint fails: the stream retries the record
    (bounded) and then parks it in the dead-letter queue.
    """
    stream = raw_record.get("dynamodb", {})
    if raw_record.get("eventName") != "INSERT" or "NewImage" not in stream:
        return False
    item = callback_store.from_image(stream["NewImage"])
    read_cache.prefetch(  # the practice, its signing secret, the callback: one request
        keys.profile(item.practice_id), keys.secrets(item.practice_id), (item.pk, item.sk)
    )
    try:
        practice = practice_store.get_practice(item.practice_id)
    except PracticeClosedError:  # D19: its secret is gone, and so is its address
        logger.info("practice callback not sent: practice closed", event_type=item.event_type)
        return False
    secret = practice_keys.callback_secret(secrets_key_arn, item.practice_id)
    if not practice.callback_url or secret is None:
        return False
    if not callback_store.still_there(item):
        logger.info("practice callback withdrawn", event_type=item.event_type)
        return False
    payload = dict(item.payload)
    post_callback(practice.callback_url, secret, str(payload["id"]), payload, now, loopback_http=loopback_http)
    metrics.add_metric(name="PracticeCallbacks", unit="Count", value=1)
    logger.info("practice notified", event_type=item.event_type)
    return True

"""HTTP callbacks to a practice's system (B6), signed with Standard Webhooks (P4) using the
practice's callback secret, so its developers verify them with any Standard Webhooks
library."""

from __future__ import annotations

import http.client
import json
from datetime import datetime
from typing import Any

from . import public_urls


class CallbackError(Exception):
    """The practice's endpoint did not accept the callback (retried by the stream)."""


def signed_headers(secret: str, message_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body.decode()),
    }


def post_callback(
    url: str,
    secret: str,
    message_id: str,
    payload: dict[str, Any],
    sent_at: datetime,
    timeout_s: float = 5.0,
    loopback_http: bool = False,
) -> int:
    """POST the signed notice; CallbackError unless the practice answered 2xx. The URL is
    checked at this call (P6: public https addresses only, no redirects followed)."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "patient-notify/1",
        **signed_headers(secret, message_id, sent_at, body),
    }
    try:
        answer = public_urls.post(url, body, headers, timeout_s=timeout_s, loopback_http=loopback_http)
    except public_urls.UnsafeUrlError as exc:
        raise CallbackError(f"practice URL refused: {exc}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise CallbackError("practice endpoint unreachable") from exc
    if 300 <= answer.status < 400:
        raise CallbackError(f"practice endpoint answered {answer.status}: redirects are not followed")
    if not 200 <= answer.status < 300:
        raise CallbackError(f"practice endpoint answered {answer.status}")
    return answer.status

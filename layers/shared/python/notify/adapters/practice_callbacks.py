"""HTTP callbacks to a practice's system (B6), signed with Standard Webhooks (P4) using the
practice's callback secret, so its developers verify them with any Standard Webhooks
library."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any


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
    url: str, secret: str, message_id: str, payload: dict[str, Any], sent_at: datetime, timeout_s: float = 5.0
) -> int:
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "patient-notify/1",
            **signed_headers(secret, message_id, sent_at, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise CallbackError(f"practice endpoint answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise CallbackError("practice endpoint unreachable") from exc

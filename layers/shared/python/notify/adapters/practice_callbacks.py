"""Signed HTTP callbacks to a practice's system (B6), with the webhook's signature scheme."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ..domain.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


class CallbackError(Exception):
    """The practice's endpoint did not accept the callback (retried by the stream)."""


def post_callback(url: str, secret: str, payload: dict[str, Any], now_epoch: int, timeout_s: float = 5.0) -> int:
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(now_epoch),
            SIGNATURE_HEADER: sign(secret, now_epoch, body),
            "User-Agent": "patient-notify/1",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise CallbackError(f"practice endpoint answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise CallbackError("practice endpoint unreachable") from exc

"""Practice webhook authentication: HMAC-SHA256 over "<timestamp>.<body>" with a replay
window (SPEC Interfaces). Headers: X-Notify-Timestamp (unix seconds), X-Notify-Signature
("v1=<hex>")."""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Notify-Timestamp"
SIGNATURE_HEADER = "X-Notify-Signature"
REPLAY_WINDOW_SECONDS = 300


class SignatureError(Exception):
    """The request is not authentic (missing, wrong, or stale signature)."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value for this body at this time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now_epoch: float,
    window: int = REPLAY_WINDOW_SECONDS,
) -> None:
    """Raise SignatureError unless the signature is valid and fresh."""
    if not timestamp_header or not signature_header:
        raise SignatureError("missing signature headers")
    try:
        timestamp = int(timestamp_header)
    except ValueError as exc:
        raise SignatureError("timestamp header is not an integer") from exc
    if abs(now_epoch - timestamp) > window:
        raise SignatureError("timestamp outside the replay window")
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, signature_header.strip()):
        raise SignatureError("signature does not match")

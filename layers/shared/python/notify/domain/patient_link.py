"""Patient links (R4, K2): short, unguessable, expiring tokens, never stored (P3).

A token is the first 96 bits of a keyed MAC (HMAC-SHA256 in KMS, key never leaves it) of
what it opens: the same inputs give the same token, so any sender can put the link in a
message without the token being kept anywhere. The table keeps only a digest of it
(SHA-256), which is what a presented token is looked up by: a copy of the table opens
no link. A new generation of an appointment's link revokes the old one.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta
from urllib.parse import unquote

TOKEN_CHARS = 16  # 96 bits, URL-safe base64: short enough for an SMS
AFTER_APPOINTMENT = timedelta(days=2)
RECALL_LINK_LIFETIME = timedelta(days=60)


def appointment_link_input(practice_id: str, appointment_id: str, generation: int) -> bytes:
    return f"appointment/{practice_id}/{appointment_id}/{generation}".encode()


def recall_link_input(practice_id: str, recall_id: str, period: str) -> bytes:
    return f"recall/{practice_id}/{recall_id}/{period}".encode()


def group_link_input(practice_id: str, number: str, day: str, send_day: str) -> bytes:
    """R11: the page of one day's grouped reminder to one number, sent on `send_day`."""
    return f"group/{practice_id}/{number}/{day}/{send_day}".encode()


def token_from_mac(mac: bytes) -> str:
    """The URL-safe token of a MAC (its first 96 bits)."""
    return base64.urlsafe_b64encode(mac).decode()[:TOKEN_CHARS]


def token_digest(token: str) -> str:
    """What the table keeps of a token, and finds a presented token by."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_expiry(appointment_end: datetime) -> datetime:
    """Links stay usable until two days after the appointment (reviews, rebooking)."""
    return appointment_end + AFTER_APPOINTMENT


def recall_link_expiry(due_at: datetime) -> datetime:
    """A recall's booking link stays usable two months after it was due."""
    return due_at + RECALL_LINK_LIFETIME


def link_url(base_url: str, token: str, action: str | None = None) -> str:
    """The patient-facing URL; actions are POSTs from the page, `a=` preselects one."""
    url = f"{base_url.rstrip('/')}/l/{token}"
    return f"{url}?a={action}" if action else url


def group_url(base_url: str, token: str) -> str:
    """R11: the page of a day's grouped reminder."""
    return f"{base_url.rstrip('/')}/g/{token}"


# What SMS apps and mail clients glue to the end of a link.
_TRAILING = ".,;:!?)]}>'\"»”’ \t"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16}$")


def token_in(raw: str) -> str | None:
    """The token of a link as the patient's app delivered it (trailing punctuation
    tolerated), or None when it cannot be one."""
    token = unquote(raw).rstrip(_TRAILING)  # percent-encoded or not, as the path arrives
    return token if _TOKEN.match(token) else None

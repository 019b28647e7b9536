"""Patient links (R4): short, unguessable, expiring tokens, one per appointment."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

TOKEN_BYTES = 12  # 96 bits of entropy, 16 URL-safe characters: short enough for SMS
AFTER_APPOINTMENT = timedelta(days=2)


def new_token() -> str:
    """A fresh random token (96 bits from the OS CSPRNG)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def link_expiry(appointment_end: datetime) -> datetime:
    """Links stay usable until two days after the appointment (reviews, rebooking)."""
    return appointment_end + AFTER_APPOINTMENT


def link_url(base_url: str, token: str, action: str | None = None) -> str:
    """The patient-facing URL; actions are POSTs from the page, `a=` preselects one."""
    url = f"{base_url.rstrip('/')}/l/{token}"
    return f"{url}?a={action}" if action else url

"""P4: signatures of practice requests that change something, kept for their replay window."""

from __future__ import annotations

from datetime import datetime

from .errors import condition_held
from .models import SignatureItem


def first_use(digest: str, keep_until: datetime) -> bool:
    """Record this signature; False if it was used before (a replayed request)."""
    item = SignatureItem(*SignatureItem.key(digest))
    item.expires_at = keep_until
    return condition_held(lambda: item.save(condition=SignatureItem.pk.does_not_exist()))

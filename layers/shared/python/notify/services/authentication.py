"""Who is calling the practice API: the practice whose secret signed the request."""

from __future__ import annotations

from datetime import datetime

from ..dal import practices as practice_store
from ..dal.errors import NotFoundError
from ..domain.webhook_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    verify,
)


def authenticate_practice(practice_id: str | None, headers: dict[str, str], body: bytes, now: datetime) -> None:
    """Raise SignatureError unless the request is signed by this practice, and fresh.

    An unknown practice gives the same error as a bad signature: nothing to probe.
    """
    if not practice_id:
        raise SignatureError("unknown practice")
    try:
        practice = practice_store.get_practice(practice_id)
    except NotFoundError as exc:
        raise SignatureError("unknown practice") from exc
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    verify(
        practice.webhook_secret,
        lowered.get(TIMESTAMP_HEADER.lower()),
        lowered.get(SIGNATURE_HEADER.lower()),
        body,
        now.timestamp(),
    )

"""What SES tells us after a send (C5): a permanent bounce or a complaint means the
address must not be used again for that patient. Transient bounces (mailbox full) and
deliveries change nothing.

The event carries the tags the email was sent with (practice and patient ids, encoded
for SES), never read from the message content.
"""

from __future__ import annotations

import json
from typing import Any

from ..adapters.channels import from_tag_value
from ..dal import practices as practice_store
from ..observability import logger, metrics


def _tag(mail: dict[str, Any], name: str) -> str | None:
    values = (mail.get("tags") or {}).get(name) or []
    return from_tag_value(values[0]) if values else None


def apply_ses_event(raw: str) -> str:
    """Apply one SES event notification; returns what happened ("marked", "ignored")."""
    try:
        event = json.loads(raw)
    except ValueError:
        logger.warning("SES event is not JSON")
        return "ignored"
    kind = event.get("eventType") or event.get("notificationType") or ""
    mail = event.get("mail") or {}
    if kind == "Bounce":
        metrics.add_metric(name="EmailBounced", unit="Count", value=1)
        bounce = event.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return "ignored"
        addresses = [r.get("emailAddress", "") for r in bounce.get("bouncedRecipients") or []]
    elif kind == "Complaint":
        metrics.add_metric(name="EmailComplained", unit="Count", value=1)
        addresses = [
            r.get("emailAddress", "") for r in (event.get("complaint") or {}).get("complainedRecipients") or []
        ]
    else:
        return "ignored"
    practice_id, patient_id = _tag(mail, "practice_id"), _tag(mail, "patient_id")
    if not practice_id or not patient_id:
        logger.warning("SES event without our tags", event_type=kind)
        return "ignored"
    marked = any(
        practice_store.mark_email_bounced(practice_id, patient_id, address) for address in addresses if address
    )
    logger.info("email feedback", event_type=kind, marked=marked)
    return "marked" if marked else "ignored"

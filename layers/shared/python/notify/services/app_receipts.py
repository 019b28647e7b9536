"""What the app tells us: a push was opened (C4, R6; SNS only knows the hand-off to Apple
and Google, so "opened" is known only from the app), and the device to push to (C3)."""

from __future__ import annotations

from datetime import datetime

from ..dal import ledger
from ..dal.ledger import MessageRef
from ..domain.message_ids import MessageId, MessageIdError
from ..domain.model import Channel, DeliveryStatus
from .errors import UnknownMessageError
from .patient_actions import open_link


def record_opened(token: str, message_id: str, now: datetime) -> str:
    """Mark the push of `message_id` opened; returns the resulting status."""
    view = open_link(token, now)
    appointment = view.appointment
    try:
        parsed = MessageId.parse(message_id)
    except MessageIdError as exc:
        raise UnknownMessageError(message_id) from exc
    if parsed.subject_id != appointment.appointment_id:
        raise UnknownMessageError(message_id)
    ref = MessageRef(
        appointment.practice_id, appointment.appointment_id, appointment.patient_id, message_id, parsed.kind
    )
    entry = ledger.get_entry(ref, Channel.PUSH)
    if entry is None:
        raise UnknownMessageError(message_id)
    if entry.status == DeliveryStatus.SENT.value:
        ledger.transition(ref, Channel.PUSH, DeliveryStatus.OPENED, now)
        return DeliveryStatus.OPENED.value
    return entry.status

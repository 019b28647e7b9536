"""What the app tells us: a push was opened (C4, R6; SNS only knows the hand-off to Apple
and Google, so "opened" is known only from the app), and the device to push to (C3)."""

from __future__ import annotations

from datetime import datetime

from ..dal import ledger
from ..dal import practices as practice_store
from ..dal.ledger import MessageRef
from ..domain.model import Channel, DeliveryStatus, MessageKind
from .patient_actions import open_link


class UnknownMessageError(Exception):
    """The message is not one of this link's appointment."""


def record_opened(token: str, message_id: str, now: datetime) -> str:
    """Mark the push of `message_id` opened; returns the resulting status."""
    view = open_link(token, now)
    appointment = view.appointment
    parts = message_id.split("#")
    if len(parts) < 3 or parts[0] != appointment.appointment_id:
        raise UnknownMessageError(message_id)
    try:
        kind = MessageKind(parts[1])
    except ValueError as exc:
        raise UnknownMessageError(message_id) from exc
    ref = MessageRef(appointment.practice_id, appointment.appointment_id, appointment.patient_id, message_id, kind)
    entry = ledger.get_entry(ref, Channel.PUSH)
    if entry is None:
        raise UnknownMessageError(message_id)
    if entry.status == DeliveryStatus.SENT.value:
        ledger.transition(ref, Channel.PUSH, DeliveryStatus.OPENED, now)
        return DeliveryStatus.OPENED.value
    return entry.status


def register_device(token: str, device_token: str, platform: str, push_enabled: bool, now: datetime) -> None:
    """The app registers (or re-registers) the patient's device for push (C3)."""
    view = open_link(token, now)
    item = practice_store.patient_item(view.appointment.practice_id, view.appointment.patient_id)
    item.has_app = True
    item.push_enabled = push_enabled
    if item.device_token != device_token or item.platform != platform:
        item.device_token, item.platform, item.push_endpoint = device_token, platform, ""
    item.save()

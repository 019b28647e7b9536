"""Stream records of the table, reduced to what the planners need."""

from __future__ import annotations

from typing import Any

from ..dal.conversions import appointment_from_image
from ..domain.model import Appointment


def appointment_images(raw_record: dict[str, Any]) -> tuple[Appointment | None, Appointment | None] | None:
    """(old, new) appointments of a stream record, or None for another entity."""
    stream = raw_record.get("dynamodb", {})
    keys = stream.get("Keys", {})
    if not keys.get("sk", {}).get("S", "").startswith("APPT#"):
        return None
    return (appointment_from_image(stream.get("OldImage")), appointment_from_image(stream.get("NewImage")))


def practice_id_of_profile(raw_record: dict[str, Any]) -> str | None:
    """The practice whose profile (settings) this record created or changed, else None."""
    stream = raw_record.get("dynamodb", {})
    keys = stream.get("Keys", {})
    if keys.get("sk", {}).get("S") != "PROFILE" or "NewImage" not in stream:
        return None
    return stream["NewImage"].get("practice_id", {}).get("S")

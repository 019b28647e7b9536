"""Stream records of the table, reduced to what the planner needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import UTCDateTimeAttribute

from ..dal import keys
from ..dal.conversions import appointment_from_image
from ..dal.practices import configuration_digest
from ..domain.model import Appointment

# DynamoDB's own deletions (TTL, P2) carry this identity on their stream records.
TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def expired(raw_record: dict[str, Any]) -> bool:
    """A deletion by DynamoDB's TTL (the item aged out, P2): nothing to plan."""
    identity = raw_record.get("userIdentity") or {}
    return raw_record.get("eventName") == "REMOVE" and identity.get("principalId") == TTL_PRINCIPAL


def appointment_images(raw_record: dict[str, Any]) -> tuple[Appointment | None, Appointment | None] | None:
    """(old, new) appointments of a stream record, or None for another entity."""
    stream = raw_record.get("dynamodb", {})
    sort_key = stream.get("Keys", {}).get("sk", {}).get("S", "")
    if not sort_key.startswith(keys.Prefix.APPOINTMENT) or expired(raw_record):
        return None
    return (appointment_from_image(stream.get("OldImage")), appointment_from_image(stream.get("NewImage")))


def practice_id_of_profile(raw_record: dict[str, Any]) -> str | None:
    """The practice whose profile (settings) this record created or changed, else None."""
    stream = raw_record.get("dynamodb", {})
    if stream.get("Keys", {}).get("sk", {}).get("S") != keys.Prefix.PROFILE or "NewImage" not in stream:
        return None
    practice_id = stream["NewImage"].get("practice_id", {}).get("S")
    return str(practice_id) if practice_id else None


@dataclass(frozen=True)
class Closure:
    """D19 on a profile's stream record: is the practice closed, and did this very
    record close it (then `closed_at`)."""

    closed: bool
    closed_at: datetime | None = None


def closure(raw_record: dict[str, Any]) -> Closure:
    stream = raw_record.get("dynamodb", {})
    before = _closed_at(stream.get("OldImage") or {})
    after = _closed_at(stream.get("NewImage") or {})
    erased = "erased_at" in (stream.get("NewImage") or {})
    return Closure(after is not None, after if before is None and not erased else None)


def _closed_at(image: dict[str, Any]) -> datetime | None:
    raw = image.get("closed_at", {}).get("S")
    return UTCDateTimeAttribute().deserialize(raw) if raw else None


def changed_configuration(raw_record: dict[str, Any]) -> str | None:
    """The practice's new configuration digest when a profile's stream record changed its
    settings or calendars (C8), else None (created, or written again unchanged)."""
    stream = raw_record.get("dynamodb", {})
    old, new = stream.get("OldImage"), stream.get("NewImage")
    if not old or not new:
        return None
    after = _image_configuration(new)
    return None if after == _image_configuration(old) else after


def _image_configuration(image: dict[str, Any]) -> str:
    def json_of(name: str) -> Any:  # a JSONAttribute is stored as a string
        raw = image.get(name, {}).get("S")
        return json.loads(raw) if raw else {}

    return configuration_digest(json_of("settings"), json_of("calendars"))


def erasure_requested(raw_record: dict[str, Any]) -> tuple[str, str] | None:
    """(practice_id, request_id) of a new erasure request (P1), else None."""
    stream = raw_record.get("dynamodb", {})
    key = stream.get("Keys", {})
    if raw_record.get("eventName") != "INSERT" or not key.get("pk", {}).get("S", "").startswith(
        keys.Prefix.ERASURE
    ):
        return None
    return key["pk"]["S"].removeprefix(keys.Prefix.ERASURE), key["sk"]["S"]

"""Practices and patients."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from ..domain.model import Patient, PracticeSettings
from . import keys, read_cache
from .conversions import patient_from_item, settings_from_json, settings_to_json
from .errors import NotFoundError, PracticeClosedError, condition_held
from .models import PatientItem, PracticeItem, SecretsItem


@dataclass(frozen=True)
class PracticeRecord:
    practice_id: str
    callback_url: str | None
    settings: PracticeSettings
    raw_settings: dict[str, Any]
    calendars: dict[str, dict[str, Any]]
    closed_at: datetime | None = None  # D19: the practice is leaving

    def settings_for(self, calendar_id: str | None) -> PracticeSettings:
        """Practice settings with the calendar's overrides applied (C8)."""
        overrides = self.calendars.get(calendar_id or "", {})
        return settings_from_json(self.raw_settings, overrides) if overrides else self.settings

    @property
    def configuration(self) -> str:
        """A digest of what the practice's messages are planned from (C8, D18)."""
        return configuration_digest(self.raw_settings, self.calendars)


def configuration_digest(settings: Any, calendars: Any) -> str:
    """A digest of a practice's settings and calendars, as stored (the profile item, or
    its stream image): equal exactly when they are."""
    canonical = json.dumps({"settings": settings or {}, "calendars": calendars or {}}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def practice_item(
    practice_id: str,
    settings: PracticeSettings,
    callback_url: str | None = None,
    calendars: dict[str, dict[str, Any]] | None = None,
    stamp: str | None = None,
) -> PracticeItem:
    pk, sk = PracticeItem.key(practice_id)
    return PracticeItem(
        pk,
        sk,
        practice_id=practice_id,
        callback_url=callback_url,
        settings=settings_to_json(settings),
        calendars=calendars or {},
        stamp=stamp,
    )


def save_practice(
    practice_id: str,
    settings: PracticeSettings,
    callback_url: str | None = None,
    calendars: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Create or replace a practice (operator onboarding)."""
    practice_item(practice_id, settings, callback_url, calendars).save()


def configuration_stamp(practice_id: str) -> str | None:
    """B9 for settings: the `practice.configured` change last applied, if any."""
    try:
        return PracticeItem.get(*PracticeItem.key(practice_id), consistent_read=True).stamp
    except PracticeItem.DoesNotExist:
        return None


def configuration_unchanged_since(stamp: str | None) -> Condition:
    return PracticeItem.stamp.does_not_exist() if stamp is None else PracticeItem.stamp == stamp


def get_practice(practice_id: str, closed_ok: bool = False) -> PracticeRecord:
    """Raise NotFoundError for an unknown practice, PracticeClosedError for one that left
    (D19); `closed_ok`: a closed practice whose settings are still there (its erasure
    reads them) is returned, with its `closed_at`."""
    try:
        item = PracticeItem.get(*PracticeItem.key(practice_id), consistent_read=True)
    except PracticeItem.DoesNotExist as exc:
        raise NotFoundError(f"practice {practice_id}") from exc
    if item.closed_at is not None and (not closed_ok or item.erased_at is not None):
        raise PracticeClosedError(practice_id)
    raw = dict(item.settings or {})
    return PracticeRecord(
        practice_id,
        item.callback_url,
        settings_from_json(raw),
        raw,
        dict(item.calendars or {}),
        item.closed_at,
    )


def close_practice(practice_id: str, now: datetime) -> datetime:
    """D19: the practice leaves. Its profile is marked closed and its secrets deleted, in
    one transaction: from then on no request of it is authenticated, no callback signed,
    nothing sent or planned. Returns when it closed (the first close's time when it was
    closed before); NotFoundError for an unknown practice."""
    pk, sk = PracticeItem.key(practice_id)
    try:
        with read_cache.transaction() as tx:
            tx.update(
                PracticeItem(pk, sk),
                actions=[PracticeItem.closed_at.set(now)],
                condition=PracticeItem.pk.exists() & PracticeItem.closed_at.does_not_exist(),
            )
            tx.delete(SecretsItem(*SecretsItem.key(practice_id)))
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in exc.cancellation_reasons or []]
        if "ConditionalCheckFailed" not in reasons:
            raise
        try:
            item = PracticeItem.get(pk, sk, consistent_read=True)
        except PracticeItem.DoesNotExist as missing:
            raise NotFoundError(f"practice {practice_id}") from missing
        assert item.closed_at is not None
        SecretsItem(*SecretsItem.key(practice_id)).delete()  # closed before: gone already, or now
        return item.closed_at
    return now


@dataclass(frozen=True)
class Departure:
    """D19: where a practice's leaving stands (what the operator's `status` shows)."""

    closed_at: datetime | None
    erased_at: datetime | None
    removed: int | None


def departure(practice_id: str) -> Departure | None:
    """None for an unknown practice."""
    try:
        item = PracticeItem.get(*PracticeItem.key(practice_id), consistent_read=True)
    except PracticeItem.DoesNotExist:
        return None
    return Departure(item.closed_at, item.erased_at, None if item.removed is None else int(item.removed))


def count_removed(practice_id: str, closed_at: datetime, removed: int) -> None:
    """D19: what one run of the erasure removed, added up on the closed profile (never on
    a profile onboarded again meanwhile)."""
    condition_held(
        lambda: PracticeItem(*PracticeItem.key(practice_id)).update(
            actions=[PracticeItem.removed.add(removed)], condition=PracticeItem.closed_at == closed_at
        )
    )


def mark_erased(practice_id: str, closed_at: datetime, now: datetime, removed: int) -> bool:
    """D19: the practice's data is gone; its profile becomes the record of its leaving (no
    settings, no callback address): when it closed, when it was erased, how many items
    went (`removed`: the last run's, added to the earlier runs'). False when it was
    marked before, or reopened."""
    pk, sk = PracticeItem.key(practice_id)
    return condition_held(
        lambda: PracticeItem(pk, sk).update(
            actions=[
                PracticeItem.erased_at.set(now),
                PracticeItem.removed.add(removed),
                PracticeItem.settings.remove(),
                PracticeItem.calendars.remove(),
                PracticeItem.callback_url.remove(),
                PracticeItem.stamp.remove(),
            ],
            condition=(PracticeItem.closed_at == closed_at) & PracticeItem.erased_at.does_not_exist(),
        )
    )


@dataclass(frozen=True)
class SealedKey:
    key_id: str
    ciphertext: str  # KMS ciphertext, base64 (P3)
    created_at: str


@dataclass(frozen=True)
class PracticeSecrets:
    api_keys: tuple[SealedKey, ...] = ()
    callback: SealedKey | None = None


def get_secrets(practice_id: str) -> PracticeSecrets:
    # Whoever checks or signs with a practice's keys goes on to read its profile: one request.
    read_cache.prefetch(keys.secrets(practice_id), keys.profile(practice_id))
    try:
        item = SecretsItem.get(*SecretsItem.key(practice_id), consistent_read=True)
    except SecretsItem.DoesNotExist:
        return PracticeSecrets()
    callback = item.callback_secret
    return PracticeSecrets(
        tuple(SealedKey(**k) for k in item.api_keys or []), SealedKey(**callback) if callback else None
    )


def add_api_key(practice_id: str, key_id: str, ciphertext: str, now: datetime) -> None:
    pk, sk = SecretsItem.key(practice_id)
    stored = get_secrets(practice_id)
    sealed = [k.__dict__ for k in stored.api_keys] + [
        {"key_id": key_id, "ciphertext": ciphertext, "created_at": now.isoformat()}
    ]
    SecretsItem(
        pk,
        sk,
        practice_id=practice_id,
        api_keys=sealed,
        callback_secret=stored.callback.__dict__ if stored.callback else None,
    ).save()


def remove_api_key(practice_id: str, key_id: str) -> bool:
    stored = get_secrets(practice_id)
    kept = [k.__dict__ for k in stored.api_keys if k.key_id != key_id]
    if len(kept) == len(stored.api_keys):
        return False
    pk, sk = SecretsItem.key(practice_id)
    SecretsItem(pk, sk).update(actions=[SecretsItem.api_keys.set(kept)])
    return True


def set_callback_secret(practice_id: str, key_id: str, ciphertext: str, now: datetime) -> None:
    pk, sk = SecretsItem.key(practice_id)
    sealed = {"key_id": key_id, "ciphertext": ciphertext, "created_at": now.isoformat()}
    SecretsItem(pk, sk).update(
        actions=[
            SecretsItem.practice_id.set(practice_id),
            SecretsItem.callback_secret.set(sealed),
            SecretsItem.entity.set(SecretsItem),
        ]
    )


def find_patient(practice_id: str, patient_id: str) -> Patient | None:
    try:
        return patient_from_item(PatientItem.get(*PatientItem.key(practice_id, patient_id)))
    except PatientItem.DoesNotExist:
        return None


def patient_ids(practice_id: str) -> Iterator[str]:
    """Every patient of the practice, in id order (read a page at a time as the caller goes)."""
    found = PatientItem.query(
        keys.practice(practice_id),
        PatientItem.sk.startswith(keys.Prefix.PATIENT),
        attributes_to_get=["pk", "sk", "entity"],
    )
    for item in found:
        yield item.sk.removeprefix(keys.Prefix.PATIENT)


def patient_item(practice_id: str, patient_id: str) -> PatientItem:
    """The stored item, or a new empty one with its keys."""
    pk, sk = PatientItem.key(practice_id, patient_id)
    try:
        return PatientItem.get(pk, sk)
    except PatientItem.DoesNotExist:
        return PatientItem(pk, sk, practice_id=practice_id, patient_id=patient_id)


def index_number(item: PatientItem, number: str | None) -> None:
    """List the patient under their mobile number (gsi1), or nowhere without one: the
    patients sharing a number are found there (R11)."""
    if number is None:
        item.gsi1pk = item.gsi1sk = None
    else:
        item.gsi1pk, item.gsi1sk = keys.phone(item.practice_id, number), f"{keys.Prefix.PATIENT}{item.patient_id}"


# What the service itself records on a patient's item, beside the PMS's fields: the
# attended platform booking (C3), the bounced address (C5) and the device's push endpoint.
SERVICE_OWNED = ("attended_platform_booking", "email_bounced", "push_endpoint")


def service_owned(item: PatientItem) -> dict[str, Any]:
    """The service's own fields of `item` as read (before a PMS update changes any)."""
    return {name: getattr(item, name) for name in SERVICE_OWNED}


def unchanged_since(stamp: str | None, as_read: dict[str, Any]) -> Condition:
    """B9: the patient item still carries `stamp` and the service's own fields `as_read`,
    so a PMS update replaces exactly what was read: one that raced with an attended visit,
    a bounce or a new push endpoint reads again instead of writing over it."""
    condition = PatientItem.stamp.does_not_exist() if stamp is None else PatientItem.stamp == stamp
    for name, value in as_read.items():
        attribute = getattr(PatientItem, name)
        same = attribute == value
        # An item written by the service alone (an attended visit before the patient's
        # record arrived) lacks the fields it did not set.
        condition &= (attribute.does_not_exist() | same) if value == attribute.default else same
    return condition


def attended_platform_booking(practice_id: str, patient_id: str) -> tuple[PatientItem, list[Any]]:
    """C3: the patient attended a booking made through the platform, so the practice's
    later bookings may go by push: the update to write with the visit's outcome, in its
    transaction. It holds whether or not the patient's record has arrived yet (B9): a
    record that comes later is written beside it (`unchanged_since`)."""
    item = PatientItem(*PatientItem.key(practice_id, patient_id))
    return item, [
        PatientItem.attended_platform_booking.set(True),
        PatientItem.practice_id.set(practice_id),
        PatientItem.patient_id.set(patient_id),
        PatientItem.entity.set(PatientItem),
    ]


def set_push_endpoint(practice_id: str, patient_id: str, device_token: str, endpoint_arn: str) -> bool:
    """Keep the push endpoint registered for `device_token`, unless the patient's device
    changed (or the patient was erased) meanwhile: False then, and nothing is written."""
    pk, sk = PatientItem.key(practice_id, patient_id)
    return condition_held(
        lambda: PatientItem(pk, sk).update(
            actions=[PatientItem.push_endpoint.set(endpoint_arn)],
            condition=PatientItem.device_token == device_token,
        )
    )


def mark_email_bounced(practice_id: str, patient_id: str, address: str) -> bool:
    """C5: SES reported `address` as undeliverable (hard bounce) or spam: stop using it,
    unless the patient's address changed since. True if the patient was marked."""
    pk, sk = PatientItem.key(practice_id, patient_id)
    return condition_held(
        lambda: PatientItem(pk, sk).update(
            actions=[PatientItem.email_bounced.set(True)], condition=PatientItem.email == address
        )
    )

"""Practices and patients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.expressions.condition import Condition

from ..domain.model import Patient, PracticeSettings
from . import keys, read_cache
from .conversions import patient_from_item, settings_from_json, settings_to_json
from .errors import NotFoundError, condition_held
from .models import PatientItem, PracticeItem, SecretsItem


@dataclass(frozen=True)
class PracticeRecord:
    practice_id: str
    callback_url: str | None
    settings: PracticeSettings
    raw_settings: dict[str, Any]
    calendars: dict[str, dict[str, Any]]

    def settings_for(self, calendar_id: str | None) -> PracticeSettings:
        """Practice settings with the calendar's overrides applied (C8)."""
        overrides = self.calendars.get(calendar_id or "", {})
        return settings_from_json(self.raw_settings, overrides) if overrides else self.settings


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


def get_practice(practice_id: str) -> PracticeRecord:
    """Raise NotFoundError for an unknown practice."""
    try:
        item = PracticeItem.get(*PracticeItem.key(practice_id), consistent_read=True)
    except PracticeItem.DoesNotExist as exc:
        raise NotFoundError(f"practice {practice_id}") from exc
    raw = dict(item.settings or {})
    return PracticeRecord(
        practice_id,
        item.callback_url,
        settings_from_json(raw),
        raw,
        dict(item.calendars or {}),
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


def unchanged_since(stamp: str | None) -> Condition:
    """B9: the patient item still carries `stamp` (so the write replaces what was read)."""
    return PatientItem.stamp.does_not_exist() if stamp is None else PatientItem.stamp == stamp


def set_push_endpoint(practice_id: str, patient_id: str, endpoint_arn: str) -> None:
    pk, sk = PatientItem.key(practice_id, patient_id)
    PatientItem(pk, sk).update(actions=[PatientItem.push_endpoint.set(endpoint_arn)])


def mark_email_bounced(practice_id: str, patient_id: str, address: str) -> bool:
    """C5: SES reported `address` as undeliverable (hard bounce) or spam: stop using it,
    unless the patient's address changed since. True if the patient was marked."""
    pk, sk = PatientItem.key(practice_id, patient_id)
    return condition_held(
        lambda: PatientItem(pk, sk).update(
            actions=[PatientItem.email_bounced.set(True)], condition=PatientItem.email == address
        )
    )


def mark_attended_platform_booking(practice_id: str, patient_id: str) -> None:
    """C3: an attended platform booking makes later practice bookings push-eligible."""
    pk, sk = PatientItem.key(practice_id, patient_id)
    PatientItem(pk, sk).update(
        actions=[PatientItem.attended_platform_booking.set(True)],
        condition=PatientItem.pk.exists(),
    )

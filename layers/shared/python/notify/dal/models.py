"""Single-table design: one pynamodb base model with a discriminator, one subclass per item
kind, keys from `keys` (docs/data-model.md). The table name is read from the environment
once, here (pynamodb fixes it at import)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import ITEM
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from . import keys, read_cache

TABLE_NAME = os.environ.get("TABLE_NAME", "notify")
REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"


class StringListAttribute(ListAttribute[str]):
    """A list of strings. (pynamodb types `ListAttribute(of=UnicodeAttribute)` as a list of
    attributes; the values read and written are strings.)"""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(of=UnicodeAttribute, **kwargs)  # type: ignore[arg-type]


class CalendarIndex(GlobalSecondaryIndex["NotifyItem"]):
    """gsi1: appointments of one calendar by start (F1), a practice's due recalls (K1), the
    patients sharing a mobile number (R11)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class PatientIndex(GlobalSecondaryIndex["NotifyItem"]):
    """gsi2: one patient's appointments and messages in time order (B5, P1, P5), a
    practice's notices (B6), recalls by token (K2)."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


_Item = TypeVar("_Item", bound="NotifyItem")


class NotifyItem(Model):
    class Meta:
        table_name = TABLE_NAME
        region = REGION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # DynamoDB TTL deletes the item after this (P2)
    calendar_index = CalendarIndex()
    patient_index = PatientIndex()

    # One read per item per invocation (read_cache): reads answered from what this
    # invocation already read; every write forgets the item it touches.
    @classmethod
    def get(
        cls: type[_Item],
        hash_key: Any,
        range_key: Any = None,
        consistent_read: bool = False,
        attributes_to_get: Any = None,
    ) -> _Item:
        if attributes_to_get is not None or not read_cache.active():
            return super().get(hash_key, range_key, consistent_read, attributes_to_get)
        key = (hash_key, range_key)
        known, raw = read_cache.cached(key, consistent_read)
        if not known:
            serialized = cls._serialize_keys(hash_key, range_key)
            data = cls._get_connection().get_item(*serialized, consistent_read=consistent_read)
            raw = (data or {}).get(ITEM) or None
            read_cache.remember(key, raw, consistent_read)
        if raw is None:
            raise cls.DoesNotExist()
        item = NotifyItem.from_raw_data(raw)
        if not isinstance(item, cls):  # another kind of item under this key
            raise cls.DoesNotExist()
        return item

    def save(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().save(*args, **kwargs)
        finally:
            read_cache.forget((self.pk, self.sk))

    def update(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().update(*args, **kwargs)
        finally:
            read_cache.forget((self.pk, self.sk))

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().delete(*args, **kwargs)
        finally:
            read_cache.forget((self.pk, self.sk))


class PracticeItem(NotifyItem, discriminator="practice"):
    """A practice's settings (C8); no secrets (they live in SecretsItem, P3)."""

    practice_id = UnicodeAttribute()
    callback_url = UnicodeAttribute(null=True)
    settings = JSONAttribute(default=dict)
    calendars = JSONAttribute(default=dict)
    stamp = UnicodeAttribute(null=True)  # B9: the `practice.configured` change last applied
    # D19: the practice left. Closed: nothing more is sent or planned; erased: its data is
    # gone and this item is all that is left (no settings), with what the erasure removed.
    closed_at = UTCDateTimeAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)
    removed = NumberAttribute(null=True)

    @staticmethod
    def key(practice_id: str) -> tuple[str, str]:
        return keys.profile(practice_id)


class SecretsItem(NotifyItem, discriminator="secrets"):
    """P3: a practice's API keys (up to two active: rotation without downtime) and the
    secret we sign callbacks with, each encrypted with KMS (bound to practice and
    purpose by the encryption context). Only the functions that verify or sign may
    decrypt them; the table and its stream carry ciphertext only."""

    practice_id = UnicodeAttribute()
    api_keys = JSONAttribute(default=list)  # [{"key_id", "ciphertext", "created_at"}]
    callback_secret = JSONAttribute(null=True)  # {"key_id", "ciphertext", "created_at"}

    @staticmethod
    def key(practice_id: str) -> tuple[str, str]:
        return keys.secrets(practice_id)


class PatientItem(NotifyItem, discriminator="patient"):
    practice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    phone = UnicodeAttribute(default="")
    email = UnicodeAttribute(default="")
    locale = UnicodeAttribute(default="")
    has_app = BooleanAttribute(default=False)
    push_enabled = BooleanAttribute(default=False)
    device_token = UnicodeAttribute(default="")
    platform = UnicodeAttribute(default="")
    push_endpoint = UnicodeAttribute(default="")
    sms_enabled = BooleanAttribute(null=True)
    email_enabled = BooleanAttribute(default=True)
    attended_platform_booking = BooleanAttribute(default=False)
    no_marketing = BooleanAttribute(default=False)
    email_bounced = BooleanAttribute(default=False)
    stamp = UnicodeAttribute(null=True)  # B9: the PMS change last applied

    @staticmethod
    def key(practice_id: str, patient_id: str) -> tuple[str, str]:
        return keys.patient(practice_id, patient_id)


class ErasedItem(NotifyItem, discriminator="erased"):
    """P1: a patient was erased at this practice (keyed by a one-way digest of the id):
    a PMS update older than the erasure cannot bring the patient back."""

    stamp = UnicodeAttribute()
    erased_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, patient_digest: str) -> tuple[str, str]:
        return keys.erased(practice_id, patient_digest)


class ErasureItem(NotifyItem, discriminator="erasure"):
    """P1: an erasure to carry out (its stream record starts it; a second pass later
    catches what work in flight wrote meanwhile). Deleted when both passes are done."""

    practice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    passes_done = NumberAttribute(default=0)
    # What the first pass found: the second cleans the same subjects again.
    appointment_ids = StringListAttribute(null=True)
    recall_ids = StringListAttribute(null=True)
    # ...and the other patients' grouped messages (R11) that listed the patient's appointments.
    group_messages = StringListAttribute(null=True)

    @staticmethod
    def key(practice_id: str, request_id: str) -> tuple[str, str]:
        return keys.erasure(practice_id, request_id)


class AppointmentItem(NotifyItem, discriminator="appointment"):
    practice_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    calendar_id = UnicodeAttribute(default="default")
    appointment_type = UnicodeAttribute(default="")
    practitioner = UnicodeAttribute(default="")
    start = UTCDateTimeAttribute()
    end = UTCDateTimeAttribute()
    booked_at = UTCDateTimeAttribute()
    source = UnicodeAttribute(default="practice")
    status = UnicodeAttribute(default="booked")
    version = NumberAttribute(default=1)
    notifications_enabled = BooleanAttribute(default=True)
    cancelled_by = UnicodeAttribute(null=True)
    # P3: the patient link's token is derived (a keyed MAC), never stored; a new
    # generation revokes the old link.
    link_generation = NumberAttribute(default=1)
    recall_id = UnicodeAttribute(null=True)
    asap_since = UTCDateTimeAttribute(null=True)  # F4
    reschedule_requested_at = UTCDateTimeAttribute(null=True)  # R4 (D22)
    updated_at = UTCDateTimeAttribute(null=True)
    # B9: per aspect the stamp of the change last applied; what was last announced.
    stamps = JSONAttribute(null=True)
    changed_at = UTCDateTimeAttribute(null=True)
    # F1: the practice kept the time its move or cancellation left (absent: free).
    moved_keeping_slot = BooleanAttribute(null=True)
    cancelled_keeping_slot = BooleanAttribute(null=True)
    took_slot_until = UTCDateTimeAttribute(null=True)  # F1: the end of the slot it took (D23)
    announced = JSONAttribute(null=True)
    revision = VersionAttribute()

    @staticmethod
    def key(practice_id: str, appointment_id: str) -> tuple[str, str]:
        return keys.appointment(practice_id, appointment_id)


class HeldChangesItem(NotifyItem, discriminator="held_changes"):
    """B9: changes to an appointment whose creation has not arrived yet (a cancellation's
    tombstone, a reschedule's new time), folded in when it does. Expires if it never does."""

    practice_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    values = JSONAttribute(default=dict)
    revision = VersionAttribute()

    @staticmethod
    def key(practice_id: str, appointment_id: str) -> tuple[str, str]:
        return keys.held(practice_id, appointment_id)


class LinkItem(NotifyItem, discriminator="link"):
    """A patient link (R4), found by the digest of its token; expires after the visit."""

    practice_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()

    @staticmethod
    def key(token_digest: str) -> tuple[str, str]:
        return keys.link(token_digest)


class EventItem(NotifyItem, discriminator="event"):
    """Marks a webhook event as applied: written in the same transaction as its effect."""

    event_type = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, event_id: str) -> tuple[str, str]:
        return keys.event(practice_id, event_id)


class SignatureItem(NotifyItem, discriminator="signature"):
    """P4: a practice request's signature seen within its replay window: the same signed
    request sent again (a replay) is refused."""

    @staticmethod
    def key(digest: str) -> tuple[str, str]:
        return keys.signature(digest)


class LedgerHistory(MapAttribute[str, object]):
    def __init__(self, **attributes: Any) -> None:
        super().__init__(**attributes)  # type: ignore[no-untyped-call]

    at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)


class LedgerItem(NotifyItem, discriminator="ledger"):
    """One message on one channel (B5): planned, skipped, sent, opened, acted, escalated.
    What it said, where and with which link is in its LedgerContentItem (P2)."""

    practice_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    segments = NumberAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    history = ListAttribute(of=LedgerHistory, default=list)
    # R11: the day's grouped message that listed this one (its id), on a covered reminder.
    covered_by = UnicodeAttribute(null=True)

    @staticmethod
    def key(practice_id: str, subject_id: str, message_id: str, channel: str) -> tuple[str, str]:
        return keys.ledger(practice_id, subject_id), keys.ledger_row(message_id, channel)


class LedgerContentItem(NotifyItem, discriminator="ledger_content"):
    """P2: a sent message's text, link and (masked) recipient, beside its ledger row. It
    expires at the practice's retention (default 90 days after the appointment): the
    ledger keeps that the message went, not what it said."""

    text = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    link = UnicodeAttribute(null=True)
    recipient = UnicodeAttribute(null=True)

    @staticmethod
    def key(practice_id: str, subject_id: str, message_id: str, channel: str) -> tuple[str, str]:
        return keys.ledger(practice_id, subject_id), keys.ledger_row(message_id, channel) + "#content"


class SlotItem(NotifyItem, discriminator="slot"):
    """A freed slot and who took it; `status` flips open -> taken (or filled, when the
    practice booked its time itself) by a conditional write."""

    practice_id = UnicodeAttribute()
    slot_id = UnicodeAttribute()
    calendar_id = UnicodeAttribute()
    start = UTCDateTimeAttribute()
    end = UTCDateTimeAttribute()
    practitioner = UnicodeAttribute(default="")
    appointment_type = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="open")
    winner_appointment_id = UnicodeAttribute(null=True)
    offered_to = StringListAttribute(default=list)
    created_at = UTCDateTimeAttribute()
    freed_stamp = UnicodeAttribute(null=True)  # B9: the stamp of the change that freed it
    filled_by = UnicodeAttribute(null=True)  # the practice's booking into its time (F2)
    wave = NumberAttribute(null=True)  # the offers' rounds so far (absent: the first)

    @staticmethod
    def key(practice_id: str, slot_id: str) -> tuple[str, str]:
        return keys.slot(practice_id, slot_id)


class CallbackItem(NotifyItem, discriminator="callback"):
    """A notice to the practice's system (B6), written in the transaction that caused it;
    its stream record drives the signed delivery (transactional outbox)."""

    practice_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    payload = JSONAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, callback_id: str) -> tuple[str, str]:
        return keys.callback(practice_id, callback_id)


class QuotaItem(NotifyItem, discriminator="quota"):
    """SMS used by a practice in a month (C7); incremented by a conditional update."""

    used = NumberAttribute(default=0)

    @staticmethod
    def key(practice_id: str, month: str) -> tuple[str, str]:
        return keys.quota(practice_id, month)


class PacingItem(NotifyItem, discriminator="pacing"):
    """One lane of an SMS rate: the moment (epoch seconds) its next part may leave (D17)."""

    next_at = NumberAttribute(null=True)

    @staticmethod
    def key(counter: str) -> tuple[str, str]:
        return keys.pacing(counter)


class RecallItem(NotifyItem, discriminator="recall"):
    """A patient's current recall of one type (K1). While due it sits in the practice's
    due queue (gsi1, sparse: removed once handled), so the daily sweep reads only who is
    due, never the whole table; the digest of its link token (gsi2) attributes bookings
    to it (K2) until the token expires."""

    practice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    recall_type = UnicodeAttribute()
    category = UnicodeAttribute()
    due_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    token_expires_at = UTCDateTimeAttribute(null=True)
    source = UnicodeAttribute(default="criteria")
    booked_appointment_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    # The visit a period of the practice's criteria started from (C8: its rules change).
    visit_end = UTCDateTimeAttribute(null=True)
    visit_type = UnicodeAttribute(null=True)
    calendar_id = UnicodeAttribute(null=True)

    @staticmethod
    def key(practice_id: str, recall_id: str) -> tuple[str, str]:
        return keys.recall(practice_id, recall_id)


class BlockedNumberItem(NotifyItem, discriminator="blocked_number"):
    """K4: a mobile number on the practice's blocked communication list (our data, never
    the provider's opt-out list, B7)."""

    practice_id = UnicodeAttribute()
    number = UnicodeAttribute()
    blocked_recalls = BooleanAttribute(default=True)
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, number: str) -> tuple[str, str]:
        return keys.blocked(practice_id, number)


class ThreadItem(NotifyItem, discriminator="thread"):
    """T1: the last SMS that invited an answer, per pair of numbers: which practice, which
    appointments (all of a grouped message), and whether the one helpful reply went."""

    practice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    subject_ids = StringListAttribute(default=list)
    message_id = UnicodeAttribute()
    sent_at = UTCDateTimeAttribute()
    helped = BooleanAttribute(default=False)

    @staticmethod
    def key(our_number: str, patient_number: str) -> tuple[str, str]:
        return keys.thread(our_number, patient_number)


class ConsentItem(NotifyItem, discriminator="consent"):
    """T2: SMS from this practice to this number stopped or not; every change kept with
    its time, the exact text and its source (keyword, link page, practice)."""

    practice_id = UnicodeAttribute()
    number = UnicodeAttribute()
    sms_stopped = BooleanAttribute(default=False)
    history = JSONAttribute(default=list)  # [{"at", "sms_stopped", "source", "text", "ref"}]
    updated_at = UTCDateTimeAttribute()
    revision = VersionAttribute()

    @staticmethod
    def key(practice_id: str, number: str) -> tuple[str, str]:
        return keys.consent(practice_id, number)


class ReminderGroupItem(NotifyItem, discriminator="reminder_group"):
    """R11: a day's reminder for one number listing several appointments. The first
    sender to write it sends the message (`owner`); the others find their appointment
    in `appointment_ids` and skip. Its page (/g/{token}) is found by the token's digest."""

    practice_id = UnicodeAttribute()
    owner = UnicodeAttribute()  # the message id that sends the grouped reminder
    appointment_ids = StringListAttribute()
    day = UnicodeAttribute()  # the appointments' local day (YYYY-MM-DD)

    @staticmethod
    def key(token_digest: str) -> tuple[str, str]:
        return keys.reminder_group(token_digest)


class MessageCapItem(NotifyItem, discriminator="message_cap"):
    """R11: how many automated messages a patient got in one local day or ISO week."""

    sent = NumberAttribute(null=True)
    messages = UnicodeSetAttribute(null=True)  # the messages counted (each once)

    @staticmethod
    def key(practice_id: str, patient_id: str, period: str) -> tuple[str, str]:
        return keys.message_cap(practice_id, patient_id, period)


class OutcomeItem(NotifyItem, discriminator="outcomes"):
    """A1 and K6: what the messages achieved and what each feature was used for, per
    practice, local day and calendar, incremented atomically (one update per step) by the
    step that won its conditional write. Counts and durations only: nothing in them
    identifies a patient (kept through erasure, P1)."""

    booked = NumberAttribute(null=True)
    reminders = NumberAttribute(null=True)
    reminders_pushed = NumberAttribute(null=True)
    escalations = NumberAttribute(null=True)
    confirmed_link = NumberAttribute(null=True)
    confirmed_sms = NumberAttribute(null=True)
    confirmed_app = NumberAttribute(null=True)
    cancelled_by_patient = NumberAttribute(null=True)
    attended = NumberAttribute(null=True)
    no_shows = NumberAttribute(null=True)
    slots_offered = NumberAttribute(null=True)
    slots_filled = NumberAttribute(null=True)
    sms_parts = NumberAttribute(null=True)  # of appointment messages (A1)
    fill_minutes = ListAttribute(of=NumberAttribute, null=True)
    # K6 only (its other figures are A1's: confirmations, cancellations, offers claimed).
    recalls_sent_push = NumberAttribute(null=True)
    recalls_sent_sms = NumberAttribute(null=True)
    recalls_sent_email = NumberAttribute(null=True)
    recall_bookings = NumberAttribute(null=True)
    offers_sent = NumberAttribute(null=True)
    other_sms_parts = NumberAttribute(null=True)  # recalls, replies: no appointment's
    reschedule_requests = NumberAttribute(null=True)  # R4 from the link page (D22)

    @staticmethod
    def key(practice_id: str, day: str, calendar_id: str) -> tuple[str, str]:
        return keys.outcomes(practice_id, day, calendar_id)


def practice_items_from(
    model: type[_Item], practice_id: str, prefix: keys.Prefix, after: str | None
) -> Iterator[_Item]:
    """The practice's items of one kind (in its partition, under the kind's sort-key
    prefix), in sort-key order from after the sort key `after`: read a page of up to 1 MB at
    a time as the caller goes, strongly consistent (a change written just before is seen)."""
    pk = keys.practice(practice_id)
    found = model.query(
        pk,
        model.sk.startswith(prefix),
        consistent_read=True,
        last_evaluated_key={"pk": {"S": pk}, "sk": {"S": after}} if after else None,
    )
    yield from (item for item in found if isinstance(item, model))

"""Single-table design. The table name is read from the environment once, here."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

TABLE_NAME = os.environ.get("TABLE_NAME", "notify")
REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1"


class CalendarIndex(GlobalSecondaryIndex["NotifyItem"]):
    """Appointments of one calendar ordered by start (freed-slot candidates, F1)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class PatientIndex(GlobalSecondaryIndex["NotifyItem"]):
    """Everything about one patient in time order (ledger per patient, B5)."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


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
    expires_at = TTLAttribute(null=True)
    calendar_index = CalendarIndex()
    patient_index = PatientIndex()


class PracticeItem(NotifyItem, discriminator="practice"):
    practice_id = UnicodeAttribute()
    webhook_secret = UnicodeAttribute()
    callback_url = UnicodeAttribute(null=True)
    settings = JSONAttribute(default=dict)
    calendars = JSONAttribute(default=dict)

    @staticmethod
    def key(practice_id: str) -> tuple[str, str]:
        return f"PRACTICE#{practice_id}", "PROFILE"


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
        return f"PRACTICE#{practice_id}", f"PATIENT#{patient_id}"


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
    link_token = UnicodeAttribute(default="")
    recall_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # B9: per aspect the stamp of the change last applied; what was last announced.
    stamps = JSONAttribute(null=True)
    changed_at = UTCDateTimeAttribute(null=True)
    announced = JSONAttribute(null=True)
    revision = VersionAttribute()

    @staticmethod
    def key(practice_id: str, appointment_id: str) -> tuple[str, str]:
        return f"PRACTICE#{practice_id}", f"APPT#{appointment_id}"

    @staticmethod
    def calendar_key(practice_id: str, calendar_id: str) -> str:
        return f"CAL#{practice_id}#{calendar_id}"


class HeldChangesItem(NotifyItem, discriminator="held_changes"):
    """B9: changes to an appointment whose creation has not arrived yet (a cancellation's
    tombstone, a reschedule's new time), folded in when it does. Expires if it never does."""

    practice_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    values = JSONAttribute(default=dict)
    revision = VersionAttribute()

    @staticmethod
    def key(practice_id: str, appointment_id: str) -> tuple[str, str]:
        return f"PRACTICE#{practice_id}", f"HELD#{appointment_id}"


class LinkItem(NotifyItem, discriminator="link"):
    practice_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()

    @staticmethod
    def key(token: str) -> tuple[str, str]:
        return f"LINK#{token}", "LINK"


class EventItem(NotifyItem, discriminator="event"):
    """Marks a webhook event as applied: written in the same transaction as its effect."""

    event_type = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, event_id: str) -> tuple[str, str]:
        return f"EVENT#{practice_id}#{event_id}", "EVENT"


class LedgerHistory(MapAttribute):
    at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)


class LedgerItem(NotifyItem, discriminator="ledger"):
    """One message on one channel (B5): planned, skipped, sent, opened, acted, escalated."""

    practice_id = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    recipient = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    link = UnicodeAttribute(null=True)
    segments = NumberAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    history = ListAttribute(of=LedgerHistory, default=list)

    @staticmethod
    def key(practice_id: str, appointment_id: str, message_id: str, channel: str) -> tuple[str, str]:
        return f"LEDGER#{practice_id}#{appointment_id}", f"{message_id}#{channel}"

    @staticmethod
    def patient_key(practice_id: str, patient_id: str) -> str:
        return f"PATIENT#{practice_id}#{patient_id}"


class SlotItem(NotifyItem, discriminator="slot"):
    """A freed slot and who took it; `status` flips open -> taken by a conditional write."""

    practice_id = UnicodeAttribute()
    slot_id = UnicodeAttribute()
    calendar_id = UnicodeAttribute()
    start = UTCDateTimeAttribute()
    end = UTCDateTimeAttribute()
    practitioner = UnicodeAttribute(default="")
    appointment_type = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="open")
    winner_appointment_id = UnicodeAttribute(null=True)
    offered_to = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, slot_id: str) -> tuple[str, str]:
        return f"SLOT#{practice_id}#{slot_id}", "SLOT"


class CallbackItem(NotifyItem, discriminator="callback"):
    """A notice to the practice's system (B6), written in the transaction that caused it;
    its stream record drives the signed delivery (transactional outbox)."""

    practice_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    payload = JSONAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, callback_id: str) -> tuple[str, str]:
        return f"CALLBACK#{practice_id}#{callback_id}", "CALLBACK"


class QuotaItem(NotifyItem, discriminator="quota"):
    """SMS used by a practice in a month (C7); incremented by a conditional update."""

    used = NumberAttribute(default=0)

    @staticmethod
    def key(practice_id: str, month: str) -> tuple[str, str]:
        return f"QUOTA#{practice_id}", month


class RecallItem(NotifyItem, discriminator="recall"):
    """A patient's current recall of one type (K1). While due it sits in the practice's
    due queue (gsi1, sparse: removed once handled), so the daily sweep reads only who is
    due, never the whole table; its token (gsi2) attributes bookings to it (K2)."""

    practice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    recall_type = UnicodeAttribute()
    category = UnicodeAttribute()
    due_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    token = UnicodeAttribute()
    source = UnicodeAttribute(default="criteria")
    booked_appointment_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, recall_id: str) -> tuple[str, str]:
        return f"PRACTICE#{practice_id}", f"RECALL#{recall_id}"

    @staticmethod
    def due_key(practice_id: str) -> str:
        return f"RECALLDUE#{practice_id}"

    @staticmethod
    def token_key(token: str) -> str:
        return f"RECALLTOKEN#{token}"


class BlockedNumberItem(NotifyItem, discriminator="blocked_number"):
    """K4: a mobile number on the practice's blocked communication list (our data, never
    the provider's opt-out list, B7)."""

    practice_id = UnicodeAttribute()
    number = UnicodeAttribute()
    blocked_recalls = BooleanAttribute(default=True)
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(practice_id: str, number: str) -> tuple[str, str]:
        return f"BLOCKED#{practice_id}", number


class StatsItem(NotifyItem, discriminator="stats"):
    """K6: one practice's counters for one day, incremented atomically (ADD)."""

    recalls_sent_push = NumberAttribute(default=0)
    recalls_sent_sms = NumberAttribute(default=0)
    recalls_sent_email = NumberAttribute(default=0)
    recall_bookings = NumberAttribute(default=0)
    offers_sent = NumberAttribute(default=0)
    offers_claimed = NumberAttribute(default=0)
    confirmations = NumberAttribute(default=0)
    cancellations = NumberAttribute(default=0)
    sms_parts = NumberAttribute(default=0)

    @staticmethod
    def key(practice_id: str, day: str) -> tuple[str, str]:
        return f"STATS#{practice_id}", day


def epoch(moment: datetime) -> datetime:
    """TTLAttribute takes an aware datetime; keep it UTC."""
    return moment.astimezone(UTC)

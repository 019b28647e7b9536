"""Every key shape of the single table, in one place.

The table (`pk`, `sk`) and its two indexes (`gsi1pk`/`gsi1sk`, `gsi2pk`/`gsi2sk`) hold all
item kinds; docs/data-model.md lists each shape with who writes and reads it. The stream
filters in infra/stack.py and the escalation state machine's read are built from these
constants too, so a key can only change here.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum


class Prefix(StrEnum):
    # Partition of one practice: its profile, patients, appointments, recalls...
    PRACTICE = "PRACTICE#"
    # Sort keys inside a practice's partition.
    PROFILE = "PROFILE"
    PATIENT = "PATIENT#"
    APPOINTMENT = "APPT#"
    HELD = "HELD#"
    RECALL = "RECALL#"
    ERASED = "ERASED#"
    # Partitions of their own.
    SECRETS = "SECRETS#"
    LINK = "LINK#"
    EVENT = "EVENT#"
    LEDGER = "LEDGER#"
    SLOT = "SLOT#"
    CALLBACK = "CALLBACK#"
    QUOTA = "QUOTA#"
    BLOCKED = "BLOCKED#"
    SIGNATURE = "SIGNATURE#"
    ERASURE = "ERASURE#"
    THREAD = "THREAD#"
    CONSENT = "CONSENT#"
    GROUP = "GROUP#"
    OUTCOMES = "OUTCOMES#"
    CAP = "CAP#"
    PACING = "PACING#"
    # Index partitions: gsi1 (calendar order, due recalls, shared numbers), gsi2 (one
    # patient's items, a practice's notices, recall tokens).
    CALENDAR = "CAL#"
    RECALL_DUE = "RECALLDUE#"
    PATIENT_ITEMS = "PATIENTITEMS#"
    NOTICES = "NOTICES#"
    RECALL_TOKEN = "RECALLTOKEN#"
    PHONE = "PHONE#"


def moment(when: datetime) -> str:
    """A time in sort keys: UTC, to the second, sortable as text."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def practice(practice_id: str) -> str:
    return f"{Prefix.PRACTICE}{practice_id}"


def profile(practice_id: str) -> tuple[str, str]:
    return practice(practice_id), Prefix.PROFILE.value


def patient(practice_id: str, patient_id: str) -> tuple[str, str]:
    return practice(practice_id), f"{Prefix.PATIENT}{patient_id}"


def appointment(practice_id: str, appointment_id: str) -> tuple[str, str]:
    return practice(practice_id), f"{Prefix.APPOINTMENT}{appointment_id}"


def held(practice_id: str, appointment_id: str) -> tuple[str, str]:
    return practice(practice_id), f"{Prefix.HELD}{appointment_id}"


def recall(practice_id: str, recall_id: str) -> tuple[str, str]:
    return practice(practice_id), f"{Prefix.RECALL}{recall_id}"


def patient_digest(practice_id: str, patient_id: str) -> str:
    """A patient's id as the one-way digest an erasure keeps of it (P1)."""
    return hashlib.sha256(f"{practice_id}/{patient_id}".encode()).hexdigest()


def erased(practice_id: str, patient_digest: str) -> tuple[str, str]:
    """The tombstone of an erased patient (its id only as a one-way digest, P1)."""
    return practice(practice_id), f"{Prefix.ERASED}{patient_digest}"


def secrets(practice_id: str) -> tuple[str, str]:
    return f"{Prefix.SECRETS}{practice_id}", "SECRETS"


def link(token_digest: str) -> tuple[str, str]:
    """A patient link by the digest of its token (the token itself is never stored)."""
    return f"{Prefix.LINK}{token_digest}", "LINK"


def event(practice_id: str, event_id: str) -> tuple[str, str]:
    return f"{Prefix.EVENT}{practice_id}#{event_id}", "EVENT"


def ledger(practice_id: str, subject_id: str) -> str:
    """The ledger partition of one appointment (or recall, or patient)."""
    return f"{Prefix.LEDGER}{practice_id}#{subject_id}"


def ledger_row(message_id: str, channel: str) -> str:
    return f"{message_id}#{channel}"


def slot(practice_id: str, slot_id: str) -> tuple[str, str]:
    return f"{Prefix.SLOT}{practice_id}#{slot_id}", "SLOT"


def callback(practice_id: str, callback_id: str) -> tuple[str, str]:
    return f"{Prefix.CALLBACK}{practice_id}#{callback_id}", "CALLBACK"


def quota(practice_id: str, month: str) -> tuple[str, str]:
    return f"{Prefix.QUOTA}{practice_id}", month


def blocked(practice_id: str, number: str) -> tuple[str, str]:
    return f"{Prefix.BLOCKED}{practice_id}", number


def signature(digest: str) -> tuple[str, str]:
    """A practice request's signature, kept for its replay window (P4)."""
    return f"{Prefix.SIGNATURE}{digest}", "SIGNATURE"


def erasure(practice_id: str, request_id: str) -> tuple[str, str]:
    return f"{Prefix.ERASURE}{practice_id}", request_id


def calendar(practice_id: str, calendar_id: str) -> str:
    return f"{Prefix.CALENDAR}{practice_id}#{calendar_id}"


def recall_due(practice_id: str) -> str:
    return f"{Prefix.RECALL_DUE}{practice_id}"


def patient_items(practice_id: str, patient_id: str) -> str:
    """gsi2: everything about one patient (appointments, messages), in time order."""
    return f"{Prefix.PATIENT_ITEMS}{practice_id}#{patient_id}"


def notices(practice_id: str) -> str:
    return f"{Prefix.NOTICES}{practice_id}"


def recall_token(token_digest: str) -> str:
    return f"{Prefix.RECALL_TOKEN}{token_digest}"


def thread(our_number: str, patient_number: str) -> tuple[str, str]:
    """The SMS conversation between one of our numbers and a patient's (T1): what a reply
    answers (one of our numbers may serve several practices: the latest message wins)."""
    return f"{Prefix.THREAD}{our_number}#{patient_number}", "THREAD"


def consent(practice_id: str, number: str) -> tuple[str, str]:
    """T2: a number's SMS consent at one practice (STOP / START), with its history."""
    return f"{Prefix.CONSENT}{practice_id}", number


def phone(practice_id: str, number: str) -> str:
    """gsi1: the patients of a practice with this mobile number (E.164): a family (R11)."""
    return f"{Prefix.PHONE}{practice_id}#{number}"


def reminder_group(token_digest: str) -> tuple[str, str]:
    """R11: the one reminder a number gets for a day's appointments, by its page's token."""
    return f"{Prefix.GROUP}{token_digest}", "GROUP"


def message_cap(practice_id: str, patient_id: str, period: str) -> tuple[str, str]:
    """R11: automated messages a patient got in one local day (`D2026-03-26`) or ISO week
    (`W2026-13`)."""
    return f"{Prefix.CAP}{practice_id}#{patient_id}", period


def outcomes(practice_id: str, day: str, calendar_id: str) -> tuple[str, str]:
    """A1 and K6: one practice's counters of one local day and calendar."""
    return f"{Prefix.OUTCOMES}{practice_id}", f"{day}#{calendar_id}"


def pacing(counter: str) -> tuple[str, str]:
    """The moment the next SMS part of one rate's lane may leave (`account#routine`,
    `US#urgent`: D17). Deployment-wide, not a practice's."""
    return f"{Prefix.PACING}{counter}", "PACING"

"""The outbox: every push, SMS and email that left, with what it was and why.

Built from the delivery ledger (kind, patient, appointment, text) and checked against
what the emulated providers (SNS, SES) actually received."""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from notify.dal.keys import Prefix
from notify.dal.ledger import SCHEDULE
from notify.dal.models import LedgerContentItem, LedgerItem, NotifyItem

from .deploy import ACCOUNT, LOCAL_TABLE, REGION
from .moto_patches import DYNAMODB_LOCK

SENT_STATES = {"sent", "opened", "acted", "escalated"}


def provider_message_ids() -> dict[str, set[str]]:
    sns = sns_backends[ACCOUNT][REGION]
    push = {mid for endpoint in sns.platform_endpoints.values() for mid in endpoint.messages}
    email: set[str] = set()
    for region_backends in (ses_backends[ACCOUNT],):
        for backend in region_backends.values():
            email |= {m.id for m in backend.sent_messages}
    return {"push": push, "sms": set(sns.sms_messages), "email": email}


def sms_received(number: str) -> list[str]:
    """The texts the emulated SNS took for `number` (E.164), in the order sent."""
    sns = sns_backends[ACCOUNT][REGION]
    return [text for to, text in sns.sms_messages.values() if to == number]


def _sent_at(item: LedgerItem) -> str:
    for entry in item.history or []:
        if entry.status == "sent":
            return entry.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return item.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ledger(practice_id: str | None) -> tuple[list[LedgerItem], list[LedgerContentItem]]:
    """The ledger rows and kept contents of one practice (or all), read from the
    emulator's table in this process: a scan through the API would serialise every
    practice's rows on each call (the outbox is a test and demo tool, not product code)."""
    prefix = f"{Prefix.LEDGER}{practice_id}#" if practice_id else Prefix.LEDGER.value
    table = dynamodb_backends[ACCOUNT][REGION].tables[LOCAL_TABLE]
    with DYNAMODB_LOCK:
        raws = [
            item.to_json()["Attributes"]
            for hash_key, rows in table.items.items()
            if str(hash_key.value).startswith(prefix)
            for item in rows.values()
        ]
    items = [NotifyItem.from_raw_data(raw) for raw in raws]
    return (
        [i for i in items if isinstance(i, LedgerItem)],
        [i for i in items if isinstance(i, LedgerContentItem)],
    )


def outbox(practice_id: str | None = None) -> list[dict[str, Any]]:
    provider = provider_message_ids()
    rows_of_ledger, kept = _ledger(practice_id)
    contents = {(i.pk, i.sk.removesuffix("#content")): i for i in kept}
    # When each planned message was due (its schedule row): with a flexible time window
    # it leaves up to an hour later (issue 16), so tests read the plan from here.
    due = {
        (i.pk, i.message_id): i.due_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in rows_of_ledger
        if i.channel == SCHEDULE and i.due_at
    }
    rows = []
    for item in rows_of_ledger:
        if item.status not in SENT_STATES or (practice_id and item.practice_id != practice_id):
            continue
        content = contents.get((item.pk, item.sk))
        rows.append(
            {
                "at": _sent_at(item),
                "due": due.get((item.pk, item.message_id)),
                "channel": item.channel,
                "kind": item.kind,
                "practice_id": item.practice_id,
                "patient_id": item.patient_id,
                "appointment_id": item.appointment_id,
                "message_id": item.message_id,
                "recipient": content.recipient if content else None,
                "subject": content.subject if content else None,
                "text": content.text if content else None,
                "segments": item.segments,
                "status": item.status,
                "link": content.link if content else None,
                "delivered_to_provider": item.provider_message_id in provider.get(item.channel, set()),
            }
        )
    rows.sort(key=lambda r: (r["at"], r["practice_id"], r["patient_id"], r["channel"]))
    return rows


def skipped(practice_id: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for item in _ledger(practice_id)[0]:
        if item.status != "skipped" or (practice_id and item.practice_id != practice_id):
            continue
        rows.append(
            {
                "at": item.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "channel": item.channel,
                "kind": item.kind,
                "practice_id": item.practice_id,
                "patient_id": item.patient_id,
                "appointment_id": item.appointment_id,
                "reason": item.reason,
            }
        )
    rows.sort(key=lambda r: r["at"])
    return rows

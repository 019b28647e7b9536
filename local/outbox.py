"""The outbox: every push, SMS and email that left, with what it was and why.

Built from the delivery ledger (kind, patient, appointment, text) and checked against
what the emulated providers (SNS, SES) actually received."""

from __future__ import annotations

from typing import Any

from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from notify.dal.ledger import SCHEDULE
from notify.dal.models import LedgerContentItem, LedgerItem

from .deploy import ACCOUNT, REGION

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


def _contents() -> dict[tuple[str, str], LedgerContentItem]:
    """What each sent message said (while kept, P2), by its row's key."""
    return {(i.pk, i.sk.removesuffix("#content")): i for i in LedgerContentItem.scan()}


def outbox(practice_id: str | None = None) -> list[dict[str, Any]]:
    provider = provider_message_ids()
    contents = _contents()
    condition = LedgerItem.status.is_in(*SENT_STATES)
    # When each planned message was due (its schedule row): with a flexible time window
    # it leaves up to an hour later (issue 16), so tests read the plan from here.
    due = {
        (i.pk, i.message_id): i.due_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in LedgerItem.scan(LedgerItem.channel == SCHEDULE)
        if i.due_at
    }
    rows = []
    for item in LedgerItem.scan(condition):
        if practice_id and item.practice_id != practice_id:
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
    for item in LedgerItem.scan(LedgerItem.status == "skipped"):
        if practice_id and item.practice_id != practice_id:
            continue
        rows.append(
            {
                "at": item.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "channel": item.channel,
                "kind": item.kind,
                "patient_id": item.patient_id,
                "appointment_id": item.appointment_id,
                "reason": item.reason,
            }
        )
    rows.sort(key=lambda r: r["at"])
    return rows

"""A patient's text message to one of our numbers (T1, T2).

The answer refers to the last SMS that invited one, from that number to that patient
(the conversation, dal/conversations.py): 1 confirms and 2 cancels every appointment it
was about, as the link page would (the same checks, notice to the practice, counters,
planning); STOP and its variants stop SMS from that practice to that number (our own
record, with time, text and source), START restores them; anything else gets one
helpful answer per message, and reaches the practice as a patient message. Every answer
we send is a ledger row keyed by the inbound message, so a repeated delivery sends
nothing twice; the actions themselves are idempotent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..adapters import channels
from ..adapters.channels import ChannelConfig
from ..adapters.link_keys import LinkKeys
from ..dal import appointments as appointment_store
from ..dal import conversations, ledger, pacing, quota
from ..dal import practices as practice_store
from ..dal.callbacks import callback_item
from ..dal.conversations import Thread
from ..dal.errors import NotFoundError, PracticeClosedError
from ..dal.ledger import MessageRef
from ..domain import sms_pacing
from ..domain.contact_validation import number_country
from ..domain.message_ids import MessageId
from ..domain.model import Channel, DeliveryStatus, MessageKind, PracticeSettings
from ..domain.patient_link import group_url, link_url
from ..domain.replies import Reply, parse_reply
from ..domain.sms_segments import segment_count
from ..observability import logger, metrics
from ..rendering import local_times, pick_locale, render_answer
from . import outcomes
from .errors import ActionNotAllowedError
from .patient_actions import PatientAction, act_on, view_of
from .reminder_groups import group_token

ANSWER_RETENTION = timedelta(days=90)


class InboundSms(BaseModel):
    """What End User Messaging SMS publishes for a text to our number (two-way SMS)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    originationNumber: str = Field(min_length=3, max_length=20)  # noqa: N815 - AWS's names
    destinationNumber: str = Field(min_length=1, max_length=20)  # noqa: N815
    messageBody: str = Field(default="", max_length=2000)  # noqa: N815
    inboundMessageId: str = Field(min_length=1, max_length=100)  # noqa: N815


@dataclass(frozen=True)
class Replies:
    """What answering needs: the channels (to send), the link key (to link the page)."""

    channels: ChannelConfig
    links: LinkKeys
    base_url: str


@dataclass
class ReplyOutcome:
    reply: str
    practice_id: str | None = None
    acted: list[str] = field(default_factory=list)
    answered: bool = False


def handle_inbound(message: InboundSms, now: datetime, replies: Replies) -> ReplyOutcome:
    patient_number = message.originationNumber
    reply = parse_reply(message.messageBody)
    thread = conversations.find_thread(message.destinationNumber, patient_number, now)
    outcome = ReplyOutcome(reply.value, thread.practice_id if thread else None)
    metrics.add_metric(name=f"SmsReplies_{reply.value}", unit="Count", value=1)
    if thread is None:
        logger.info("sms reply without a conversation", reply=reply.value)  # the provider's STOP still applies
        return outcome
    try:
        practice = practice_store.get_practice(thread.practice_id)
    except PracticeClosedError:  # D19: the provider's STOP list still applies
        logger.info("sms reply to a closed practice", reply=reply.value)
        return outcome
    settings = practice.settings
    if reply in (Reply.STOP, Reply.START):
        stopped = reply is Reply.STOP
        conversations.set_consent(
            thread.practice_id,
            patient_number,
            stopped,
            "sms keyword",
            message.messageBody,
            message.inboundMessageId,
            now,
        )
        outcome.answered = _answer(
            thread,
            settings,
            patient_number,
            "stopped" if stopped else "started",
            {},
            message,
            now,
            replies,
            force=True,
        )
        return outcome
    if reply in (Reply.CONFIRM, Reply.CANCEL):
        return _act(thread, settings, patient_number, reply, message, now, replies, outcome)
    # Anything else: one helpful answer per message, and the practice reads the text.
    if conversations.mark_helped(message.destinationNumber, patient_number, thread.message_id):
        callback_item(
            thread.practice_id,
            "patient.message",
            {
                "patient_id": thread.patient_id,
                "appointment_ids": list(thread.subject_ids),
                "text": message.messageBody[:480],
            },
            now,
        ).save()
        outcome.answered = _answer(
            thread,
            settings,
            patient_number,
            "help",
            _about(thread, settings, patient_number, now, replies),
            message,
            now,
            replies,
        )
    return outcome


def _about(
    thread: Thread, settings: PracticeSettings, patient_number: str, now: datetime, replies: Replies
) -> dict[str, Any]:
    """The conversation's appointments as an answer names them: the time (the day and
    every time for a day's group, R11) and the page (the group's page for a group)."""
    try:
        view = view_of(thread.practice_id, thread.subject_ids[0], "", now)
    except (NotFoundError, IndexError):
        return {"when_short": "", "link": ""}
    locale = pick_locale(settings.locale)
    base = settings.link_base_url or replies.base_url
    times = local_times(view.appointment.start, settings.timezone, locale)
    if len(thread.subject_ids) == 1:
        token = replies.links.appointment_token(
            thread.practice_id, view.appointment.appointment_id, view.appointment.link_generation
        )
        return {"when_short": times["when_short"], "link": link_url(base, token)}
    token = group_token(replies.links, view.appointment, patient_number, settings.timezone, thread.sent_at)
    starts = [view.appointment.start] + [
        a.start
        for a in (appointment_store.find_appointment(thread.practice_id, i) for i in thread.subject_ids[1:])
        if a is not None
    ]
    listed = sorted(local_times(start, settings.timezone, locale)["time"] for start in starts)
    return {"when_short": f"{times['day_short']} {', '.join(listed)}", "link": group_url(base, token)}


def _act(
    thread: Thread,
    settings: PracticeSettings,
    patient_number: str,
    reply: Reply,
    message: InboundSms,
    now: datetime,
    replies: Replies,
    outcome: ReplyOutcome,
) -> ReplyOutcome:
    """1 or 2: every appointment of the conversation, as the link page would."""
    action = PatientAction.CONFIRM if reply is Reply.CONFIRM else PatientAction.CANCEL
    refused = False
    for appointment_id in thread.subject_ids:
        try:
            view = view_of(thread.practice_id, appointment_id, "", now)
            act_on(view, action, now, via="sms reply")
            outcome.acted.append(appointment_id)
        except (ActionNotAllowedError, NotFoundError):
            refused = True
    about = _about(thread, settings, patient_number, now, replies)
    answer = (
        "not_allowed"
        if refused and not outcome.acted
        else ("confirmed" if reply is Reply.CONFIRM else "cancelled")
    )
    outcome.answered = _answer(
        thread,
        settings,
        patient_number,
        answer,
        {**about, "booking_link": settings.booking_url},
        message,
        now,
        replies,
    )
    return outcome


def _answer(
    thread: Thread,
    settings: PracticeSettings,
    patient_number: str,
    name: str,
    values: dict[str, Any],
    message: InboundSms,
    now: datetime,
    replies: Replies,
    force: bool = False,
) -> bool:
    """Send our answer once per inbound message (its ledger row is the proof). STOP's
    confirmation goes even to a stopped number (`force`): it is the last one."""
    subject = thread.subject_ids[0] if thread.subject_ids else "patient"
    inbound = re.sub(r"[^A-Za-z0-9_.:-]", "-", message.inboundMessageId)[:80]
    message_id = str(MessageId(subject, MessageKind.REPLY, 1, inbound))
    ref = MessageRef(thread.practice_id, subject, thread.patient_id, message_id, MessageKind.REPLY)
    if not ledger.claim(ref, Channel.SMS, now):
        return False  # answered before (a repeated delivery)
    if not force and conversations.sms_stopped(thread.practice_id, patient_number):
        ledger.transition(
            ref, Channel.SMS, DeliveryStatus.SKIPPED, now, reason="patient stopped SMS from this practice (STOP)"
        )
        return False
    patient = practice_store.find_patient(thread.practice_id, thread.patient_id)
    locale = pick_locale(patient.locale if patient else None, settings.locale)
    text = render_answer(name, locale, {"practice": settings.name, "phone": settings.phone, **values})
    segments = segment_count(text)
    if quota.consume_sms(thread.practice_id, now.strftime("%Y-%m"), settings.sms_quota, segments) is None:
        ledger.transition(ref, Channel.SMS, DeliveryStatus.SKIPPED, now, reason="monthly SMS quota reached")
        return False
    try:
        country = number_country(patient_number)
        # An answer leaves at once; it takes its place on the urgent lane so the SMS
        # paced after it leave that much later (D17).
        pacing.moment(replies.channels.sms_rates(country, sms_pacing.Lane.URGENT), segments, now)
        provider_id = channels.send_sms(replies.channels, patient_number, country, text)
    except Exception:
        # The retry (Lambda's async retries, a redrive) may claim a failed answer again.
        quota.refund_sms(thread.practice_id, now.strftime("%Y-%m"), segments)
        ledger.transition(ref, Channel.SMS, DeliveryStatus.FAILED, now, reason="send error")
        raise
    said = ledger.Content(text, None, None, patient_number[:-4] + "****", now + ANSWER_RETENTION)
    ledger.transition(
        ref,
        Channel.SMS,
        DeliveryStatus.SENT,
        now,
        content=said,
        provider_message_id=provider_id,
        segments=segments,
    )
    outcomes.record(thread.practice_id, None, settings.timezone, now, other_sms_parts=segments)
    logger.info("sms answered", answer=name)
    return True

"""Sending one message of an appointment (send_push) and its SMS escalation (sms_fallback).

Every channel send is claimed in the ledger first (B4), every skip is recorded with its
reason (B5), and SMS count against the practice's monthly quota atomically (C7).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.expressions.condition import Condition

from ..adapters import channels
from ..adapters.channels import ChannelConfig, ChannelError, PushMessage
from ..adapters.escalation_machine import Escalations
from ..adapters.link_keys import LinkKeys
from ..adapters.sms_queue import SmsQueue
from ..contracts import QueuedSms, SendRequest, iso_z
from ..dal import appointments as appointment_store
from ..dal import conversations, keys, ledger, pacing, quota, read_cache
from ..dal import practices as practice_store
from ..dal import recalls as recall_store
from ..dal import slots as slot_store
from ..dal.callbacks import callback_item
from ..dal.errors import PracticeClosedError, condition_held
from ..dal.ledger import MessageRef
from ..dal.models import CallbackItem, NotifyItem
from ..dal.practices import PracticeRecord
from ..domain import sms_pacing
from ..domain.channel_choice import (
    NOTICE_KINDS,
    choose_channels,
    email_ineligibility,
    sms_ineligibility,
)
from ..domain.contact_validation import normalise_mobile, number_country
from ..domain.escalation import escalation_at
from ..domain.message_plan import staleness_reason
from ..domain.model import (
    ANSWERED_APPOINTMENT,
    ANSWERED_RECALL,
    Appointment,
    Channel,
    ChannelsOffered,
    DeliveryStatus,
    FreedSlot,
    MessageKind,
    Patient,
    PracticeSettings,
    Recall,
)
from ..domain.slot_offers import NO_LONGER_AVAILABLE, refusal
from ..observability import logger, metrics
from ..rendering import Rendered, pick_locale, render
from . import outcomes, recalls, reminder_groups
from .message_context import recall_context, template_context

if TYPE_CHECKING:
    from ..adapters.invoker import Invoker
    from ..settings import PacedSmsSettings

MESSAGE_LEVEL = "message"


@dataclass(frozen=True)
class Sending:
    """What a sender sends with (built from its validated settings by the handler)."""

    base_url: str
    channels: ChannelConfig
    links: LinkKeys
    escalations: Escalations | None = None  # sms_fallback starts none
    sms_queue: SmsQueue | None = None  # where an SMS waits for its moment (D17)
    # sms_sender: send_push, which sends the email of a message whose SMS did not leave
    hand_back: Invoker | None = None

    @classmethod
    def from_settings(
        cls, settings: PacedSmsSettings, channels: ChannelConfig, escalations: Escalations | None = None
    ) -> Sending:
        """What a sending function builds at cold start from its validated settings."""
        links = LinkKeys(settings.link_key_arn)
        return cls(settings.public_base_url, channels, links, escalations, SmsQueue(settings.sms_queue_url))

    @property
    def offered(self) -> ChannelsOffered:
        return ChannelsOffered(self.channels.push_platforms, self.channels.email)


@dataclass
class DeliveryOutcome:
    sent: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    escalation_started: bool = False
    queued: list[str] = field(default_factory=list)  # waiting in the paced queue (D17)
    practice_closed: bool = False  # D19: nothing is sent, nothing written

    @property
    def going(self) -> set[str]:
        """Channels sent, or queued to leave at their moment."""
        return {*self.sent, *self.queued}

    def logged(self, message_id: str) -> DeliveryOutcome:
        """Log the channels skipped, with their reasons (an opted-out number, the quota...):
        the operator's answer to "why did this patient get nothing"."""
        if self.skipped:
            logger.info("message skipped", message_id=message_id, skipped=self.skipped)
        return self


@dataclass(frozen=True)
class _Job:
    ref: MessageRef
    appointment: Appointment | None
    patient: Patient
    practice: PracticeRecord
    settings: PracticeSettings
    rendered: Rendered
    deep_link: str
    app_link: str
    sending: Sending
    keep_until: datetime  # P2: the message's text and link are kept until then
    recall: Recall | None = None
    locale: str = "en"
    context: dict[str, Any] = field(default_factory=dict)  # what `rendered` was made from
    subject_ids: tuple[str, ...] = ()  # R11: every appointment the message covers
    subject_versions: tuple[int, ...] = ()  # ...and the version of each it was written for
    subject_patients: tuple[str, ...] = ()  # ...and each one's patient
    group_token: str | None = None  # R11: the day's group this reminder owns
    escalation: bool = False  # the SMS of an unanswered message (urgent, D17)
    request: SendRequest | None = None  # what asked for it (an SMS queued carries it, D17)
    escalating: tuple[ledger.Mark, ...] = ()  # the rows an escalation's SMS moves with it

    @property
    def offered(self) -> ChannelsOffered:
        return self.sending.offered

    @property
    def group_key(self) -> str | None:
        """The table's key of the group this reminder owns (a digest, no capability)."""
        return reminder_groups.group_key(self.group_token) if self.group_token else None

    @property
    def config(self) -> ChannelConfig:
        return self.sending.channels


# T1: the messages a patient may answer by digit (1 confirm, 2 cancel).
REPLYABLE = frozenset({MessageKind.CONFIRMATION, MessageKind.REMINDER, MessageKind.RESCHEDULE})
SMS_STOPPED_REASON = "patient stopped SMS from this practice (STOP)"
PRACTICE_CLOSED = "the practice has left the service"
ALREADY_SENT = "already sent"


def _not_sent(ref: MessageRef, reason: str, now: datetime, outcome: DeliveryOutcome) -> None:
    ledger.record_skip(ref, Channel.PUSH, reason, now)
    outcome.skipped.append((MESSAGE_LEVEL, reason))
    logger.info("message not sent", message_id=ref.message_id, reason=reason)


def appointment_refusal(
    req: SendRequest, appointment: Appointment | None, now: datetime
) -> tuple[str | None, FreedSlot | None]:
    """Why an appointment's message no longer applies (R3: the appointment moved on; F2:
    the offered slot went), or None; with the offered slot, if any."""
    reason = staleness_reason(req.kind, req.version, appointment)
    slot = None
    if reason is None and req.slot_id:
        found = slot_store.get_slot(req.practice_id, req.slot_id)
        slot = found[0] if found else None
        refused = refusal(slot, appointment, now) if appointment is not None else None
        if refused is None and slot is not None and req.held:
            from .slot_offers import filled_while_held  # only an offer held overnight reads the calendar

            refused = NO_LONGER_AVAILABLE if filled_while_held(slot) else None
        reason = f"slot offer: {refused}" if refused else None
    return reason, slot


def recall_refusal(req: SendRequest, recall: Recall | None) -> str | None:
    """Why a recall's message no longer applies (K1: replaced, booked, stopped), or None."""
    if recall is None or recall.period != str(req.version):
        return "recall replaced by a newer one"
    return None if recall.status in recalls.PENDING else f"recall {recall.status.value}"


def sms_stop_reason(practice_id: str, phone: str, recall: bool) -> str | None:
    """Why no SMS may go to this number now: blocked for recalls (K5), the provider's STOP
    list (B7), our own STOP record (T2); or None."""
    if recall and recall_store.is_blocked_for_recalls(practice_id, phone):
        return recalls.BLOCKED_REASON
    if channels.is_opted_out(phone):
        return "number opted out (STOP)"
    if conversations.sms_stopped(practice_id, phone):  # T2: our own record
        return SMS_STOPPED_REASON
    return None


def _load(req: SendRequest, now: datetime, sending: Sending, outcome: DeliveryOutcome) -> _Job | None:
    """What a send needs, or None when it is not sent (the reason recorded)."""
    try:
        return (
            _load_recall(req, now, sending, outcome)
            if req.recall_id
            else _load_appointment(req, now, sending, outcome)
        )
    except PracticeClosedError:  # D19: nothing is sent, and nothing written: its data is being erased
        outcome.practice_closed = True
        outcome.skipped.append((MESSAGE_LEVEL, PRACTICE_CLOSED))
        logger.info("message not sent", message_id=req.message_id, reason=PRACTICE_CLOSED)
        return None


def _load_appointment(req: SendRequest, now: datetime, sending: Sending, outcome: DeliveryOutcome) -> _Job | None:
    assert req.appointment_id is not None
    read_cache.prefetch(  # what a send reads, in one request
        keys.profile(req.practice_id),
        keys.appointment(req.practice_id, req.appointment_id),
        keys.patient(req.practice_id, req.patient_id) if req.patient_id else None,
        keys.slot(req.practice_id, req.slot_id) if req.slot_id else None,
    )
    practice = practice_store.get_practice(req.practice_id)
    appointment = appointment_store.find_appointment(req.practice_id, req.appointment_id)
    patient_id = appointment.patient_id if appointment else "unknown"
    ref = MessageRef(req.practice_id, req.appointment_id, patient_id, req.message_id, req.kind)
    reason, slot = appointment_refusal(req, appointment, now)
    if reason is None and appointment is not None:
        patient = practice_store.find_patient(req.practice_id, appointment.patient_id)
        reason = None if patient is not None else "unknown patient"
    if (
        reason is None
        and req.kind is MessageKind.REBOOKING_PROMPT
        and appointment is not None
        and appointment_store.has_future_appointment(req.practice_id, appointment.patient_id, now)
    ):
        reason = "next appointment already booked"
    if reason is not None:
        _not_sent(ref, reason, now, outcome)
        return None
    assert appointment is not None and patient is not None
    settings = practice.settings_for(appointment.calendar_id)
    locale = pick_locale(patient.locale, settings.locale)
    token = sending.links.appointment_token(
        appointment.practice_id, appointment.appointment_id, appointment.link_generation
    )
    phone = normalise_mobile(patient.phone, settings.country)
    reply = (
        req.kind in REPLYABLE
        and phone is not None
        and channels.our_number(sending.channels, number_country(phone)) is not None
    )
    context = template_context(appointment, patient, settings, locale, sending.base_url, token, slot, reply)
    rendered = render(
        req.kind, locale, context, overrides=dict(settings.templates), transliterate_sms=settings.sms_transliterate
    )
    link = context["offer_link"] if slot is not None else context["link"]
    return _Job(
        ref,
        appointment,
        patient,
        practice,
        settings,
        rendered,
        link,
        f"app://appointments/{appointment.appointment_id}",
        sending,
        appointment.end + timedelta(days=settings.retention_days),
        locale=locale,
        context=context,
        subject_ids=(appointment.appointment_id,),
        subject_versions=(appointment.version,),
        subject_patients=(appointment.patient_id,),
        request=req,
    )


def _load_recall(req: SendRequest, now: datetime, sending: Sending, outcome: DeliveryOutcome) -> _Job | None:
    """K1/K2: a recall of this period, unless booked, replaced or no longer needed."""
    assert req.recall_id is not None
    practice = practice_store.get_practice(req.practice_id)
    recall = recall_store.get_recall(req.practice_id, req.recall_id)
    patient_id = recall.patient_id if recall else "unknown"
    ref = MessageRef(req.practice_id, req.subject_id, patient_id, req.message_id, req.kind)
    patient = practice_store.find_patient(req.practice_id, patient_id)
    reason = recall_refusal(req, recall)
    if reason is None and patient is None:
        reason = "unknown patient"
    if (
        reason is None
        and recall is not None
        and recall.source != "manual"
        and appointment_store.has_future_appointment(req.practice_id, patient_id, now)
    ):
        reason = "next appointment already booked"
    if reason is not None:
        _not_sent(ref, reason, now, outcome)
        return None
    assert recall is not None and patient is not None
    settings = practice.settings
    locale = pick_locale(patient.locale, settings.locale)
    link = recalls.recall_link(
        settings.link_base_url or sending.base_url,
        sending.links.recall_token(recall.practice_id, recall.recall_id, recall.period),
    )
    context = recall_context(recall, patient, settings, link)
    rendered = render(
        req.kind, locale, context, overrides=dict(settings.templates), transliterate_sms=settings.sms_transliterate
    )
    return _Job(
        ref,
        None,
        patient,
        practice,
        settings,
        rendered,
        link,
        f"app://recalls/{recall.recall_id}",
        sending,
        now + timedelta(days=settings.retention_days),
        recall,
        request=req,
    )


def deliver(req: SendRequest, now: datetime, sending: Sending) -> DeliveryOutcome:
    """Send `req` on the channels the rules choose and start its escalation if due."""
    if req.email_instead:
        return _email_instead(req, now, sending)
    outcome = DeliveryOutcome()
    job = _load(req, now, sending, outcome)
    if req.scheduled and req.appointment_id is not None and not outcome.practice_closed:
        ledger.close_planned(
            MessageRef(req.practice_id, req.appointment_id, "", req.message_id, req.kind),
            DeliveryStatus.FIRED,
            now,
        )
    if job is None:
        return outcome
    decision = choose_channels(req.kind, job.patient, job.appointment, job.settings, job.offered)
    gated = _one_per_day(job, decision.channels, now, outcome)
    if gated is None:
        return outcome
    job = gated
    ledger.record_skips(job.ref, decision.skipped, now)
    outcome.skipped += [(channel.value, reason) for channel, reason in decision.skipped]
    for channel in decision.channels:
        _send_on(job, channel, now, outcome, fallback_to_email=Channel.EMAIL not in decision.channels)
    if job.group_key and Channel.SMS.value not in outcome.going and not _sms_may_go(job):
        reminder_groups.release(job.group_key, job.ref.message_id)  # R11: it covers nobody
    _count_only_what_went(job, outcome, now)
    sent = outcome.going
    if req.kind is MessageKind.REMINDER and sent and job.appointment is not None:  # A1
        pushed = int(Channel.PUSH.value in sent)
        _outcome(job, now, reminders=len(job.subject_ids), reminders_pushed=pushed)
    escalates = Channel.PUSH.value in sent or (req.kind in NOTICE_KINDS and Channel.EMAIL.value in sent)
    if req.kind is MessageKind.SLOT_OFFER and sent:
        _outcome(job, now, offers_sent=1)
    if escalates and Channel.SMS.value not in sent and sending.escalations is not None:
        if job.recall is not None:
            at: datetime | None = recalls.escalation_at(job.recall, job.settings, now)
        else:
            assert job.appointment is not None
            at = escalation_at(req.kind, job.appointment, job.settings, now)
        if at is not None:
            request = {
                **req.model_dump(mode="json", exclude_none=True, exclude={"scheduled"}),
                "escalate_at": iso_z(at),
            }
            payload = {
                "practice_id": req.practice_id,
                "record_key": req.record_key,
                "escalate_at": request["escalate_at"],
                "request": request,
            }
            outcome.escalation_started = sending.escalations.start(req.practice_id, req.message_id, payload)
    return outcome


def _email_instead(req: SendRequest, now: datetime, sending: Sending) -> DeliveryOutcome:
    """D17: the message's SMS did not leave the paced queue (C7's quota, a STOP, SMS
    switched off, or a family's SMS left without it, R11): its email goes instead, as when
    the SMS does not go at once. Once (the email's ledger claim: an email already sent with
    the SMS is not sent again); nothing when the message went stale meanwhile. An email
    that was not this message's yet counts against the patient's caps (R11)."""
    outcome = DeliveryOutcome()
    job = _load(req, now, sending, outcome)
    if job is None:
        return outcome
    reason = email_ineligibility(job.patient, job.settings, job.offered)
    if reason is not None:
        ledger.record_skip(job.ref, Channel.EMAIL, reason, now)
        outcome.skipped.append((Channel.EMAIL.value, reason))
        _unreachable_after_queue(job, reason, now)
        return outcome
    over = _over_caps(job, now)
    if over is not None:
        ledger.record_skip(job.ref, Channel.EMAIL, over, now)
        outcome.skipped.append((Channel.EMAIL.value, over))
        return outcome
    _send_on(job, Channel.EMAIL, now, outcome, fallback_to_email=False)
    return outcome


def _one_per_day(
    job: _Job, channels_chosen: tuple[Channel, ...], now: datetime, outcome: DeliveryOutcome
) -> _Job | None:
    """R11: a reminder by SMS goes once for the day's group of its number; an automated
    message counts against the patient's caps. None: not sent (recorded)."""
    kind = job.ref.kind
    if channels_chosen[:1] == (Channel.SMS,) and kind is MessageKind.REMINDER:
        grouped = _grouped(job, now)
        if grouped is None:
            return None
        job = grouped
    over = _over_caps(job, now) if channels_chosen else None
    if over is not None:
        _not_sent(job.ref, over, now, outcome)
        if job.group_key:
            reminder_groups.release(job.group_key, job.ref.message_id)
        return None
    return job


def _over_caps(job: _Job, now: datetime) -> str | None:
    """R11: count an automated message against the patient's caps (a manual recall is the
    practice's own act: not counted); the reason when over."""
    manual = job.recall is not None and job.recall.source == "manual"
    if job.ref.kind not in reminder_groups.AUTOMATED or manual:
        return None
    ref = job.ref
    return reminder_groups.within_caps(ref.practice_id, job.patient.patient_id, ref.message_id, job.settings, now)


def _sms_may_go(job: _Job) -> bool:
    """Did this message's SMS go, or may it still (an earlier delivery sent, queued or is
    sending it)? Asked only when this delivery's did not go; skipped or failed: no."""
    entry = ledger.get_entry(job.ref, Channel.SMS)
    return entry is not None and entry.status not in (DeliveryStatus.SKIPPED.value, DeliveryStatus.FAILED.value)


def _outcome(job: _Job, now: datetime, **increments: int) -> None:
    """A1 and K6 counters of the appointment's calendar (recalls have none)."""
    calendar = job.appointment.calendar_id if job.appointment is not None else None
    outcomes.record(job.ref.practice_id, calendar, job.settings.timezone, now, **increments)


def _count_only_what_went(job: _Job, outcome: DeliveryOutcome, now: datetime) -> None:
    """R11: a message that went out on no channel (every one skipped) does not count
    against the caps; one sent by an earlier delivery of it does. C5: when it is one the
    patient needed, the practice is told."""
    if outcome.going or any(reason == ALREADY_SENT for _, reason in outcome.skipped):
        return
    if job.ref.kind in reminder_groups.AUTOMATED:
        ref = job.ref
        reminder_groups.give_back(ref.practice_id, job.patient.patient_id, ref.message_id, job.settings, now)
    _tell_unreachable(job, outcome.skipped, now)


# C5: the messages whose loss the reception must hear of, to phone the patient instead
# (a recall nobody can receive goes on the practice's list to call, K1).
MUST_REACH = frozenset(
    {
        MessageKind.CONFIRMATION,
        MessageKind.REMINDER,
        MessageKind.CANCELLATION,
        MessageKind.RESCHEDULE,
        MessageKind.RECALL,
    }
)


def _unreachable_after_queue(job: _Job, email_reason: str, now: datetime) -> None:
    """C5 with D17: the message's SMS did not leave the paced queue and its email cannot
    go; unless its push went (an escalation's SMS), nothing reached the patient."""
    if job.ref.kind not in MUST_REACH:
        return
    sms, push = ledger.get_entries(job.ref, Channel.SMS, Channel.PUSH)
    if push is not None and push.status != DeliveryStatus.SKIPPED.value:
        return
    reasons = [(Channel.SMS.value, (sms.reason if sms is not None else None) or "did not leave the paced queue")]
    if push is not None:
        reasons.insert(0, (Channel.PUSH.value, push.reason or "skipped"))
    _tell_unreachable(job, [*reasons, (Channel.EMAIL.value, email_reason)], now)


def _tell_unreachable(job: _Job, skipped: list[tuple[str, str]], now: datetime) -> None:
    """No channel carried an appointment's confirmation, reminder or notice, or a recall:
    the practice gets `patient.unreachable` with each channel's reason (no person's data
    but the ids), once per message however often its delivery runs (B4)."""
    if job.ref.kind not in MUST_REACH or not skipped:
        return
    if job.appointment is not None:
        subject = {"appointment_id": job.appointment.appointment_id}
    elif job.recall is not None:
        subject = {"recall_id": job.recall.recall_id}
    else:
        return
    digest = hashlib.sha256(job.ref.message_id.encode()).hexdigest()[:32]
    notice = callback_item(
        job.ref.practice_id,
        "patient.unreachable",
        {**subject, "patient_id": job.patient.patient_id, "message": job.ref.kind.value, "reasons": dict(skipped)},
        now,
        callback_id=f"unreachable-{digest}",
    )
    if condition_held(lambda: notice.save(condition=CallbackItem.pk.does_not_exist())):
        metrics.add_metric(name="PatientsUnreachable", unit="Count", value=1)
        logger.info("patient unreachable: practice told", message_id=job.ref.message_id)


def _grouped(job: _Job, now: datetime) -> _Job | None:
    """R11: this reminder alone, for the day's group of its number, or None when the
    group's message covers it (recorded)."""
    assert job.appointment is not None
    number = normalise_mobile(job.patient.phone, job.settings.country)
    if number is None:
        return job
    grouping = reminder_groups.group_reminder(
        job.ref.message_id,
        job.appointment,
        job.patient,
        number,
        job.practice,
        job.offered,
        job.sending.links,
        now,
    )
    if grouping.covered_by is not None:
        reason = reminder_groups.covered_reason(grouping.covered_by)
        ledger.record_skip(job.ref, Channel.SMS, reason, now, covered_by=grouping.covered_by)
        logger.info("message covered by its group", message_id=job.ref.message_id)
        return None
    if not grouping.grouped:
        return replace(job, group_token=grouping.token or None)
    context = {
        **job.context,
        **reminder_groups.group_context(grouping, job.settings, job.locale, job.sending.base_url),
    }
    return replace(
        job,
        rendered=_reminder_text(context, job.settings, job.locale),
        context=context,
        deep_link=context["link"],
        subject_ids=tuple(a.appointment_id for a, _ in grouping.members),
        subject_versions=tuple(a.version for a, _ in grouping.members),
        subject_patients=tuple(a.patient_id for a, _ in grouping.members),
        group_token=grouping.token,
    )


def _reminder_text(context: dict[str, Any], settings: PracticeSettings, locale: str) -> Rendered:
    return render(
        MessageKind.REMINDER,
        locale,
        context,
        overrides=dict(settings.templates),
        transliterate_sms=settings.sms_transliterate,
    )


def regrouped_reminder(
    owner: Patient,
    members: Sequence[tuple[Appointment, Patient]],
    group_link: str,
    practice: PracticeRecord,
    sending: Sending,
) -> tuple[Rendered, str]:
    """R11: a day's grouped reminder written again for `members` only, when some of the
    group's appointments changed while it waited for its moment (D17). One member left
    gets its own reminder; several get the group's list and the group's page at
    `group_link`, the page the group was given. In the owner's (the number's) language.
    The text, and the link it gives."""
    first, first_patient = members[0]
    settings = practice.settings_for(first.calendar_id)
    locale = pick_locale(owner.locale, settings.locale)
    token = sending.links.appointment_token(first.practice_id, first.appointment_id, first.link_generation)
    phone = normalise_mobile(owner.phone, settings.country)
    reply = phone is not None and channels.our_number(sending.channels, number_country(phone)) is not None
    context = template_context(first, first_patient, settings, locale, sending.base_url, token, None, reply)
    if len(members) > 1:
        grouping = reminder_groups.Grouping(tuple(members))
        context = {**context, **reminder_groups.group_context(grouping, settings, locale, sending.base_url)}
        context["link"] = group_link
    return _reminder_text(context, settings, locale), context["link"]


def escalate(req: SendRequest, now: datetime, sending: Sending) -> DeliveryOutcome:
    """The push went unanswered (C1) or the notice unopened (R6): send the SMS, once."""
    outcome = DeliveryOutcome()
    job = _load(req, now, sending, outcome)
    if job is None:
        return outcome
    phone = normalise_mobile(job.patient.phone, job.settings.country)
    read_cache.prefetch(  # what the escalation reads next, in one request: how the first went, STOP (T2)
        ledger.entry_key(job.ref, Channel.PUSH),
        ledger.entry_key(job.ref, Channel.EMAIL),
        keys.consent(job.ref.practice_id, phone) if phone else None,
    )
    delivered = (DeliveryStatus.SENT.value, DeliveryStatus.OPENED.value, DeliveryStatus.ACTED.value)
    entries = [
        e
        for e in ledger.get_entries(job.ref, Channel.PUSH, Channel.EMAIL)
        if e is not None and e.status in delivered
    ]
    if job.recall is not None:
        answered = job.recall.status in ANSWERED_RECALL
    else:
        assert job.appointment is not None
        # Asking the practice for another time answers a reminder as well (D22).
        answered = (
            job.appointment.status in ANSWERED_APPOINTMENT or job.appointment.reschedule_requested_at is not None
        )
    opened = any(e.status in (DeliveryStatus.OPENED.value, DeliveryStatus.ACTED.value) for e in entries)
    if answered or ((req.kind in NOTICE_KINDS or job.recall is not None) and opened):
        reason = "patient answered" if answered else "notice opened"
        outcome.skipped.append((Channel.SMS.value, reason))
        logger.info("escalation not needed", message_id=req.message_id, reason=reason)
        return outcome
    # What went unanswered is marked escalated in the transaction that records the SMS.
    escalating = tuple(
        ledger.Mark(Channel(e.channel), DeliveryStatus.ESCALATED, "no answer: SMS sent") for e in entries
    )
    # K3: an unviewed recall goes by SMS, or by email when SMS is not possible.
    _send_on(
        replace(job, escalation=True, escalating=escalating),
        Channel.SMS,
        now,
        outcome,
        fallback_to_email=job.recall is not None and job.settings.recall_email,
    )
    if req.kind is MessageKind.REMINDER and Channel.SMS.value in outcome.queued:
        _outcome(job, now, escalations=1)  # A1 (an SMS sent at once counted it with its parts)
    return outcome


def _send_on(
    job: _Job, channel: Channel, now: datetime, outcome: DeliveryOutcome, fallback_to_email: bool
) -> None:
    if channel is Channel.SMS:
        reason = sms_ineligibility(job.patient, job.settings)
        if reason is not None:
            ledger.record_skip(job.ref, channel, reason, now)
            outcome.skipped.append((channel.value, reason))
            if fallback_to_email and email_ineligibility(job.patient, job.settings, job.offered) is None:
                _send_on(job, Channel.EMAIL, now, outcome, fallback_to_email=False)
            return
    if not ledger.claim(job.ref, channel, now):
        outcome.skipped.append((channel.value, ALREADY_SENT))
        logger.info("duplicate delivery ignored", message_id=job.ref.message_id, channel=channel.value)
        return
    try:
        fields = _SENDERS[channel](job, now)
    except _Skip as skip:
        ledger.transition(job.ref, channel, DeliveryStatus.SKIPPED, now, reason=str(skip))
        outcome.skipped.append((channel.value, str(skip)))
        if (
            skip.try_email
            and fallback_to_email
            and email_ineligibility(job.patient, job.settings, job.offered) is None
        ):
            _send_on(job, Channel.EMAIL, now, outcome, fallback_to_email=False)
        return
    except ChannelError as exc:
        ledger.transition(job.ref, channel, DeliveryStatus.FAILED, now, reason=str(exc)[:200])
        outcome.skipped.append((channel.value, "provider refused"))
        metrics.add_metric(name=f"SendFailed_{channel.value}", unit="Count", value=1)
        return
    except Exception:
        ledger.transition(job.ref, channel, DeliveryStatus.FAILED, now, reason="send error")
        metrics.add_metric(name=f"SendFailed_{channel.value}", unit="Count", value=1)
        raise
    content = fields.pop("content")
    queued: QueuedSms | None = fields.pop("queued", None)
    thread = fields.pop("thread", None)
    if job.rendered.fallback:  # P6: the practice's template failed; ours went, and it shows
        fields["reason"] = job.rendered.fallback
        metrics.add_metric(name="TemplateFallbacks", unit="Count", value=1)
        logger.warning("practice template fell back", kind=job.ref.kind.value, reason=job.rendered.fallback)
    said = ledger.Content(
        content.get("text"), content.get("subject"), job.deep_link, content.get("recipient"), job.keep_until
    )
    if queued is not None:
        _queue(job, queued, said, now, outcome, **fields)
        return
    along = job.escalating if channel is Channel.SMS else ()
    ledger.transition(
        job.ref, channel, DeliveryStatus.SENT, now, content=said, along=along, latest=thread, **fields
    )
    outcome.sent.append(channel.value)
    if job.recall is not None:
        _outcome(job, now, **{f"recalls_sent_{channel.value}": 1})
    metrics.add_metric(name=f"Sent_{channel.value}", unit="Count", value=1)
    logger.info("message sent", message_id=job.ref.message_id, channel=channel.value, kind=job.ref.kind.value)


def _queue(
    job: _Job, queued: QueuedSms, said: ledger.Content, now: datetime, outcome: DeliveryOutcome, **fields: Any
) -> None:
    """D17: the SMS waits for its moment in the paced queue, its text in the ledger. A
    queue that refuses it leaves the row failed, so a retry of the send sends it."""
    queue = job.sending.sms_queue
    if queue is None:
        raise RuntimeError("an SMS over the rate needs the paced queue (SMS_QUEUE_URL)")
    leaves = queued.leaves_at
    try:
        ledger.transition(
            job.ref, Channel.SMS, DeliveryStatus.QUEUED, now, content=said, due_at=leaves, reason="paced", **fields
        )
        queue.send(queued.body(), sms_pacing.queue_delay(leaves, now))
    except Exception:
        ledger.transition(job.ref, Channel.SMS, DeliveryStatus.FAILED, now, reason="queue error")
        quota.refund_sms(job.ref.practice_id, queued.month, queued.parts)
        raise
    for mark in job.escalating:  # once the queue holds it (a refused SMS escalated nothing)
        ledger.transition(job.ref, mark.channel, mark.status, now, reason=mark.reason)
    outcome.queued.append(Channel.SMS.value)
    metrics.add_metric(name="SmsQueued", unit="Count", value=1)
    logger.info("message queued", message_id=job.ref.message_id, leaves_in_s=int((leaves - now).total_seconds()))


class _Skip(Exception):
    def __init__(self, reason: str, try_email: bool = False) -> None:
        super().__init__(reason)
        self.try_email = try_email


def _send_push(job: _Job, now: datetime) -> dict[str, Any]:
    endpoint = job.patient.push_endpoint
    if not endpoint:
        endpoint = channels.register_device(
            job.config, job.patient.device_token, job.patient.platform or "android"
        )
        practice_store.set_push_endpoint(
            job.ref.practice_id, job.patient.patient_id, job.patient.device_token, endpoint
        )
    subject = (
        {"recall_id": job.recall.recall_id, "actions": "book"}
        if job.recall is not None
        else {"appointment_id": job.ref.appointment_id, "actions": "confirm,cancel"}
    )
    message = PushMessage(
        job.rendered.push_title,
        job.rendered.push_body,
        deep_link=job.app_link,
        data={
            **subject,
            "practice_id": job.ref.practice_id,
            "message_id": job.ref.message_id,
            "link": job.deep_link,
        },
    )
    provider_id = channels.send_push(endpoint, message)
    return {
        "provider_message_id": provider_id,
        "content": {"text": job.rendered.push_body, "subject": job.rendered.push_title, "recipient": "device"},
    }


def _send_sms(job: _Job, now: datetime) -> dict[str, Any]:
    phone = normalise_mobile(job.patient.phone, job.settings.country)
    assert phone is not None
    stopped = sms_stop_reason(job.ref.practice_id, phone, recall=job.recall is not None)
    if stopped is not None:
        raise _Skip(stopped, try_email=True)
    segments = job.rendered.sms_segments
    used = quota.consume_sms(job.ref.practice_id, now.strftime("%Y-%m"), job.settings.sms_quota, segments)
    if used is None:
        metrics.add_metric(name="SmsQuotaReached", unit="Count", value=1)
        raise _Skip("monthly SMS quota reached", try_email=True)
    country = number_country(phone)
    month = now.strftime("%Y-%m")
    try:
        lane = sms_pacing.lane_for(job.ref.kind, job.escalation)
        leaves = pacing.moment(job.config.sms_rates(country, lane), segments, now)
        queued = None
        if sms_pacing.leaves_now(leaves, now):
            provider_id: str | None = channels.send_sms(job.config, phone, country, job.rendered.sms)
        else:
            assert job.request is not None
            queued = QueuedSms(
                request=job.request,
                patient_id=job.patient.patient_id,
                subject_ids=list(job.subject_ids),
                subject_versions=list(job.subject_versions),
                subject_patients=list(job.subject_patients),
                group=job.group_key,
                parts=segments,
                month=month,
                leaves_at=leaves,
                country=country,
                escalation=job.escalation,
            )
            provider_id = None
    except Exception:
        quota.refund_sms(job.ref.practice_id, month, segments)
        raise
    _warn_on_quota(job, used, segments, now)
    content = {"text": job.rendered.sms, "recipient": masked(phone)}
    if queued is not None:  # counted in the statistics when it leaves (D17)
        return {"queued": queued, "segments": segments, "content": content}
    escalated = job.escalation and job.ref.kind is MessageKind.REMINDER
    if job.appointment is not None:  # A1 and K6: one update
        _outcome(job, now, sms_parts=segments, escalations=int(escalated))
    else:
        _outcome(job, now, other_sms_parts=segments)
    thread = thread_of(job.config, job.ref, job.subject_ids, phone, now)
    return {"provider_message_id": provider_id, "segments": segments, "content": content, "thread": thread}


def thread_of(
    config: ChannelConfig, ref: MessageRef, subject_ids: Sequence[str], phone: str, now: datetime
) -> tuple[NotifyItem, Condition] | None:
    """T1: an answer from this number now refers to this message (an appointment's
    message a patient may answer by digit, REPLYABLE: never a recall's, from a number of
    ours): the thread item, and
    its condition, written with the sent row (`ledger.transition(latest=...)`)."""
    ours = channels.our_number(config, number_country(phone))
    if ref.kind not in REPLYABLE or not ours:
        return None
    return conversations.thread_write(
        ours, phone, ref.practice_id, ref.patient_id, list(subject_ids), ref.message_id, now
    )


def _warn_on_quota(job: _Job, used: int, parts: int, now: datetime) -> None:
    """C7: tell the practice when this send crossed 80% of the quota, and when it hit it."""
    quota_size = job.settings.sms_quota
    crossed = [
        label
        for label, level in (
            ("sms.quota_warning", job.settings.sms_quota_warning * quota_size),
            ("sms.quota_reached", quota_size),
        )
        if used - parts < level <= used
    ]
    for label in crossed:
        metrics.add_metric(name="SmsQuotaWarning", unit="Count", value=1)
        callback_item(
            job.ref.practice_id,
            label,
            {"month": now.strftime("%Y-%m"), "sms_used": used, "sms_quota": quota_size},
            now,
        ).save()


def _send_email(job: _Job, now: datetime) -> dict[str, Any]:
    provider_id = channels.send_email(
        job.config,
        job.patient.email,
        job.rendered.email_subject,
        job.rendered.email_text,
        job.rendered.email_html,
        {"practice_id": job.ref.practice_id, "patient_id": job.patient.patient_id},
    )
    return {
        "provider_message_id": provider_id,
        "content": {
            "text": job.rendered.email_text,
            "subject": job.rendered.email_subject,
            "recipient": masked(job.patient.email),
        },
    }


def masked(contact: str) -> str:
    """Enough to recognise a contact in the ledger, not enough to use it."""
    if "@" in contact:
        name, _, domain = contact.partition("@")
        return f"{name[:1]}***@{domain}"
    return f"{contact[:3]}***{contact[-2:]}"


_SENDERS = {Channel.PUSH: _send_push, Channel.SMS: _send_sms, Channel.EMAIL: _send_email}

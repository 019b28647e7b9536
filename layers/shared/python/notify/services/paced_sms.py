"""An SMS leaves the paced queue (D17): at its moment, if it is still wanted.

The sender queued it with its text in the ledger and its parts counted against the
practice's quota. Whatever changed while it waited is checked again before it leaves: the
appointment moved or was cancelled, the offered slot went, the recall was booked, the
patient was erased, switched SMS off or answered STOP. An SMS no longer wanted is recorded
as skipped with its reason and its parts are given back; where an SMS sent at once would
have fallen back to email (C7's quota, a STOP, SMS switched off), its email goes instead
(send_push sends it). A day's grouped reminder (R11) still goes while any of its
appointments is as its text says, written again for those; each appointment it no longer
carries, or that it carried and did not leave with, still as it was, gets its email
instead, and the group is released when its SMS does not go.
Taking it is a conditional write (B4: a second delivery of the queue's message sends
nothing); a send the provider throttled or that failed by accident goes back to the queue
(Lambda retries it, then its dead-letter queue keeps it for a redrive); one the provider
refused is failed, as any other send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..adapters import channels
from ..adapters.channels import ChannelConfig, ChannelError, ChannelThrottled
from ..adapters.sms_queue import SmsQueue
from ..contracts import QueuedSms, SendRequest, iso_z
from ..dal import appointments as appointment_store
from ..dal import keys, ledger, pacing, quota, read_cache
from ..dal import practices as practice_store
from ..dal import recalls as recall_store
from ..dal.errors import PracticeClosedError
from ..dal.ledger import MessageRef
from ..dal.models import LedgerContentItem
from ..dal.practices import PracticeRecord
from ..domain import sms_pacing
from ..domain.channel_choice import sms_ineligibility
from ..domain.contact_validation import normalise_mobile
from ..domain.message_ids import MessageId
from ..domain.message_plan import staleness_reason
from ..domain.model import Appointment, Channel, DeliveryStatus, MessageKind, Patient, PracticeSettings
from ..domain.quiet_hours import defer_out_of_quiet_hours
from ..observability import logger, metrics
from . import outcomes, reminder_groups
from .delivery import (
    Sending,
    appointment_refusal,
    masked,
    recall_refusal,
    regrouped_reminder,
    sms_stop_reason,
    thread_of,
)

# B2: what quiet hours hold back (with every escalation SMS); a confirmation or a notice
# of a change goes whenever the change happened.
QUIET_KINDS = frozenset(
    {
        MessageKind.REMINDER,
        MessageKind.REVIEW_REQUEST,
        MessageKind.REBOOKING_PROMPT,
        MessageKind.SLOT_OFFER,
        MessageKind.RECALL,
    }
)


# R11: the reason a covered reminder's row gives once the group's SMS left without it.
LEFT_OUT = (
    "not sent: its appointment or its patient's number changed while {} waited,"
    " and that SMS left written again without it (R11)"
)
# ...and once the group's SMS did not leave at all.
NOT_LEFT = "not sent: {} did not leave the paced queue ({}) (R11)"


def leave(queued: QueuedSms, now: datetime, sending: Sending) -> str:
    """Send the queued SMS if its moment has come and it is still wanted; what happened."""
    req = queued.request
    config, queue = sending.channels, sending.sms_queue
    assert queue is not None
    ref = MessageRef(req.practice_id, req.subject_id, queued.patient_id, req.message_id, req.kind)
    subject = (
        keys.appointment(req.practice_id, req.appointment_id)
        if req.appointment_id
        else keys.recall(req.practice_id, req.recall_id or "")
    )
    read_cache.prefetch(  # what leaving reads, in one request
        ledger.entry_key(ref, Channel.SMS),
        ledger.content_key(ref, Channel.SMS),
        keys.profile(req.practice_id),
        keys.patient(req.practice_id, queued.patient_id),
        subject,
        keys.slot(req.practice_id, req.slot_id) if req.slot_id else None,
        *(keys.appointment(req.practice_id, a) for a in queued.subject_ids[1:]),  # R11: the group's
        *(keys.patient(req.practice_id, p) for p in queued.subject_patients[1:]),  # ...and its patients
    )
    row = ledger.get_entry(ref, Channel.SMS)
    if row is None or row.status not in (DeliveryStatus.QUEUED.value, DeliveryStatus.PLANNED.value):
        logger.info("queued SMS gone", message_id=ref.message_id, status=row.status if row else None)
        return "gone"  # sent by an earlier delivery of it, or erased with its patient (P1)
    if not sms_pacing.leaves_now(queued.leaves_at, now):  # a wait longer than SQS holds
        return _wait(queued, queued.leaves_at, now, queue)
    try:
        practice = practice_store.get_practice(req.practice_id)
    except PracticeClosedError:  # D19: not sent; the practice's erasure removes its row
        logger.info("queued SMS not sent: practice closed", message_id=ref.message_id)
        return "practice closed"
    settings = practice.settings
    held = _held(queued, ref, settings, now, config, queue)
    if held is not None:
        return held
    patient = practice_store.find_patient(req.practice_id, queued.patient_id)
    phone = normalise_mobile(patient.phone, settings.country) if patient is not None else None
    content = ledger.get_content(ref, Channel.SMS)
    group = _group_now(queued, phone, settings.country) if len(queued.subject_ids) > 1 else None
    reason, emailed = _why_not(req, patient, phone, settings, content, now, group)
    again = None
    if reason is None and group is not None and group.changed:
        assert patient is not None and phone is not None and content is not None
        again = _rewritten(queued, group, patient, phone, content, practice, sending)
        reason = "patients erased" if again is None else None
    if reason is not None:
        return _not_leaving(queued, ref, reason, f"{reason} (while queued)", emailed, settings, now, sending)
    assert phone is not None and content is not None and content.text
    if not ledger.claim_queued(ref, now):
        logger.info("duplicate delivery ignored", message_id=ref.message_id, channel=Channel.SMS.value)
        return "taken"
    if again is None:
        return _send(queued, ref, phone, content.text, now, settings, sending, said=_readdressed(content, phone))
    if again.grown and quota.consume_sms(req.practice_id, queued.month, settings.sms_quota, again.grown) is None:
        full = "monthly SMS quota reached"
        return _not_leaving(queued, ref, full, full, True, settings, now, sending)
    return _send(again.leaving, ref, phone, again.said.text or "", now, settings, sending, again)


def _not_leaving(
    queued: QueuedSms,
    ref: MessageRef,
    reason: str,
    recorded: str,
    emailed: bool,
    settings: PracticeSettings,
    now: datetime,
    sending: Sending,
) -> str:
    """The SMS does not leave: every appointment it was to carry, still as it was, gets its
    email instead (the owner's only for a reason an SMS sent at once falls back to email
    on, `emailed`), before the row says skipped (a repeated delivery hands back again, and
    each email's claim keeps it single); the group is released and its parts given back."""
    req = queued.request
    # As the direct path: an escalation's SMS falls back to email only for a recall whose
    # practice sends recalls by email (the push or email before it went already).
    if emailed and (not queued.escalation or (req.recall_id is not None and settings.recall_email)):
        _hand_back_one(req, sending)
    _hand_back(queued, queued.subject_ids, NOT_LEFT.format(ref.message_id, reason), now, sending)
    ledger.transition(ref, Channel.SMS, DeliveryStatus.SKIPPED, now, reason=recorded)
    quota.refund_sms(req.practice_id, queued.month, queued.parts)
    if queued.group:
        reminder_groups.release(queued.group, req.message_id)
    logger.info("queued SMS not sent", message_id=ref.message_id, reason=reason)
    return "skipped"


def _hand_back(queued: QueuedSms, subject_ids: list[str], why: str, now: datetime, sending: Sending) -> None:
    """R11: the group's SMS left without these appointments, or did not leave: the rows it
    covered say so, and each appointment still as its text says (not moved, cancelled or
    switched off: those had their own notice) gets its reminder's email instead."""
    req = queued.request
    written_for = queued.versions()
    for appointment_id in subject_ids:
        if appointment_id == req.appointment_id:
            continue  # the owner's row is this SMS's own
        rows = ledger.covered(req.practice_id, appointment_id, req.message_id)
        if not rows:
            continue
        appointment = appointment_store.find_appointment(req.practice_id, appointment_id)
        version = written_for.get(appointment_id, appointment.version if appointment else 0)
        if appointment is not None and staleness_reason(MessageKind.REMINDER, version, appointment) is None:
            for row in rows:
                sent = MessageId.parse(row.message_id)
                _hand_back_one(
                    SendRequest.for_appointment(
                        req.practice_id,
                        appointment_id,
                        sent.kind,
                        sent.version,
                        slot_id=sent.slot_id,
                        offset_hours=sent.offset_hours,
                        patient_id=appointment.patient_id,
                    ),
                    sending,
                )
        ledger.uncover(rows, req.message_id, why, now)


def _hand_back_one(req: SendRequest, sending: Sending) -> None:
    if sending.hand_back is None:  # no sender to hand it to (configured so: only sms_sender has one)
        logger.warning("email instead not sent: no sender to hand it to", message_id=req.message_id)
        return
    sending.hand_back.send_now(req.model_copy(update={"email_instead": True, "scheduled": False}))


@dataclass(frozen=True)
class _Rewrite:
    """R11: a group's SMS written again (some of its appointments changed while it
    waited). The quota holds the queued SMS's parts, and the new text's extra parts once
    taken; fewer are given back when it has left."""

    queued: QueuedSms
    leaving: QueuedSms  # the appointments still as they were, the new text's parts
    said: ledger.Content

    @property
    def grown(self) -> int:
        return max(self.leaving.parts - self.queued.parts, 0)

    @property
    def shrunk(self) -> int:
        return max(self.queued.parts - self.leaving.parts, 0)

    @property
    def left_out(self) -> list[str]:
        """The appointments it listed before and lists no longer."""
        return [a for a in self.queued.subject_ids if a not in self.leaving.subject_ids]


@dataclass(frozen=True)
class _Group:
    """R11: a grouped reminder's appointments that are as its text says (in its order)."""

    kept: tuple[Appointment, ...]
    size: int

    @property
    def changed(self) -> bool:
        return len(self.kept) < self.size


def _group_now(queued: QueuedSms, phone: str | None, country: str) -> _Group:
    """Which of the group's appointments are still as they were when its text was
    written: the same version, active, with notifications on (one moved, cancelled or
    switched off meanwhile has had its own notice), and whose patient's number is still
    the one the SMS goes to, the owner's now (a member whose number changed, or an owner
    who changed theirs, must not have the others' appointments sent to a number that is
    no longer theirs)."""
    req = queued.request
    written_for = queued.versions()
    kept = []
    for appointment_id in queued.subject_ids:
        appointment = appointment_store.find_appointment(req.practice_id, appointment_id)
        if appointment is None:
            continue
        if appointment_id in written_for:
            version = written_for[appointment_id]
        else:  # queued before versions were kept: the owner's is the request's
            version = req.version if appointment_id == req.appointment_id else appointment.version
        if staleness_reason(MessageKind.REMINDER, version, appointment) is None and _at(
            appointment, queued, phone, country
        ):
            kept.append(appointment)
    return _Group(tuple(kept), len(queued.subject_ids))


def _at(appointment: Appointment, queued: QueuedSms, phone: str | None, country: str) -> bool:
    """Is the appointment's patient at `phone` (the owner always is: it is their number)?"""
    if appointment.patient_id == queued.patient_id:
        return True
    patient = practice_store.find_patient(appointment.practice_id, appointment.patient_id)
    return patient is not None and normalise_mobile(patient.phone, country) == phone


def _rewritten(
    queued: QueuedSms,
    group: _Group,
    owner: Patient,
    phone: str,
    content: LedgerContentItem,
    practice: PracticeRecord,
    sending: Sending,
) -> _Rewrite | None:
    """R11: the group's reminder for the appointments still as they were (some changed
    while it waited); None when none of their patients is left."""
    req = queued.request
    members = [
        (appointment, patient)
        for appointment in group.kept
        if (patient := practice_store.find_patient(req.practice_id, appointment.patient_id)) is not None
    ]
    if not members:
        return None
    rendered, link = regrouped_reminder(owner, members, content.link or "", practice, sending)
    rewritten = queued.model_copy(
        update={
            "subject_ids": [a.appointment_id for a, _ in members],
            "subject_versions": [a.version for a, _ in members],
            "subject_patients": [a.patient_id for a, _ in members],
            "parts": rendered.sms_segments,
        }
    )
    retention = timedelta(days=practice.settings_for(members[0][0].calendar_id).retention_days)
    keep_until = max(a.end for a, _ in members) + retention  # P2, as when it was written
    logger.info("grouped SMS rewritten", message_id=req.message_id, appointments=len(members), of=group.size)
    return _Rewrite(queued, rewritten, ledger.Content(rendered.sms, None, link, masked(phone), keep_until))


def _readdressed(content: LedgerContentItem, phone: str) -> ledger.Content | None:
    """What the SMS said, with the number it goes to now when its patient's number changed
    while it waited (the ledger says where it went); None when the number is the same."""
    if content.recipient == masked(phone):
        return None
    return ledger.Content(content.text, content.subject, content.link, masked(phone), content.expires_at)


def _held(
    queued: QueuedSms,
    ref: MessageRef,
    settings: PracticeSettings,
    now: datetime,
    config: ChannelConfig,
    queue: SmsQueue,
) -> str | None:
    """Whether the SMS waits on: its moment fell in quiet hours (B2: a backlog pushed it
    there), or they have just ended and it takes its turn again. None: it leaves now."""
    req = queued.request
    quiet = queued.escalation or req.kind in QUIET_KINDS
    resume = defer_out_of_quiet_hours(now, settings.timezone, settings.quiet_start, settings.quiet_end)
    if quiet and resume > now:
        if not queued.retake:
            reason = f"quiet hours: leaves after {iso_z(resume)}"
            ledger.transition(ref, Channel.SMS, DeliveryStatus.QUEUED, now, reason=reason, due_at=resume)
        # Held overnight: an offer reads its slot's calendar again before it leaves (D20).
        held = req.model_copy(update={"held": True})
        return _wait(
            queued.model_copy(update={"leaves_at": resume, "retake": True, "request": held}), resume, now, queue
        )
    if queued.retake:  # the night's held SMS leave in turn, not all at the end of it
        lane = sms_pacing.lane_for(req.kind, queued.escalation)
        moment = pacing.moment(config.sms_rates(queued.country, lane), queued.parts, now)
        if not sms_pacing.leaves_now(moment, now):
            return _wait(queued.model_copy(update={"leaves_at": moment, "retake": False}), moment, now, queue)
    return None


def _why_not(
    req: SendRequest,
    patient: Patient | None,
    phone: str | None,
    settings: PracticeSettings,
    content: LedgerContentItem | None,
    now: datetime,
    group: _Group | None = None,
) -> tuple[str | None, bool]:
    """Why the SMS must not leave now after all, or None (a group's reminder goes while
    any of its appointments is as it was, R11); and whether an SMS sent at once would
    have fallen back to email for that reason (SMS switched off, a STOP, a blocked number)."""
    reason = None if group is not None and group.kept else _no_longer_wanted(req, now)
    if reason is None and patient is None:
        reason = "patient erased"
    if reason is not None:
        return reason, False
    assert patient is not None
    reason = sms_ineligibility(patient, settings)
    if reason is None and phone is not None:
        reason = sms_stop_reason(req.practice_id, phone, recall=req.recall_id is not None)
    if reason is not None:
        return reason, True
    if content is None or not content.text:
        return "text no longer kept", False
    return None, False


def _send(
    queued: QueuedSms,
    ref: MessageRef,
    phone: str,
    text: str,
    now: datetime,
    settings: PracticeSettings,
    sending: Sending,
    again: _Rewrite | None = None,
    said: ledger.Content | None = None,
) -> str:
    req = queued.request
    config = sending.channels
    try:
        provider_id = channels.send_sms(config, phone, queued.country, text)
    except ChannelError as exc:
        ledger.transition(ref, Channel.SMS, DeliveryStatus.FAILED, now, reason=str(exc)[:200])
        held = queued.parts + (again.shrunk if again else 0)  # all the quota holds for it
        quota.refund_sms(req.practice_id, queued.month, held)
        if queued.group:  # R11, as when a send at once fails: the group covers nobody more
            reminder_groups.release(queued.group, req.message_id)
        metrics.add_metric(name="SendFailed_sms", unit="Count", value=1)
        return "failed"
    except Exception as exc:
        # Back in the queue's hands: the message is retried after its visibility timeout.
        if again is not None and again.grown:
            quota.refund_sms(req.practice_id, queued.month, again.grown)  # its next try takes them again
        throttled = isinstance(exc, ChannelThrottled)
        metrics.add_metric(name="SmsThrottled" if throttled else "SendFailed_sms", unit="Count", value=1)
        reason = "provider throttled: tried again" if throttled else "send error: tried again"
        ledger.transition(ref, Channel.SMS, DeliveryStatus.QUEUED, now, reason=reason)
        raise
    rewritten = None
    if again is not None:
        if again.shrunk:
            quota.refund_sms(req.practice_id, queued.month, again.shrunk)
        rewritten = f"written again for {', '.join(queued.subject_ids)}: the others changed while it waited (R11)"
    ledger.transition(
        ref,
        Channel.SMS,
        DeliveryStatus.SENT,
        now,
        reason=rewritten,
        content=again.said if again else said,
        latest=thread_of(config, ref, queued.subject_ids, phone, now),
        provider_message_id=provider_id,
    )
    if again is not None:  # after the row says sent: an error here must not make it look unsent
        _hand_back(again.queued, again.left_out, LEFT_OUT.format(ref.message_id), now, sending)
    _count(queued, settings, now)
    metrics.add_metric(name="Sent_sms", unit="Count", value=1)
    late = (now - queued.leaves_at).total_seconds()
    logger.info(
        "message sent", message_id=ref.message_id, channel=Channel.SMS.value, kind=req.kind.value, late_s=late
    )
    return "sent"


def _count(queued: QueuedSms, settings: PracticeSettings, now: datetime) -> None:
    """What left counts in the practice's statistics and outcomes (A1) when it leaves (an
    SMS skipped while it waited never counts)."""
    req = queued.request
    if req.recall_id is not None:
        parts = {"other_sms_parts": queued.parts, "recalls_sent_sms": 1}
        outcomes.record(req.practice_id, None, settings.timezone, now, **parts)
        return
    appointment = appointment_store.find_appointment(req.practice_id, req.appointment_id or "")
    if appointment is not None:
        outcomes.record(req.practice_id, appointment.calendar_id, settings.timezone, now, sms_parts=queued.parts)
    else:
        outcomes.record(req.practice_id, None, settings.timezone, now, other_sms_parts=queued.parts)


def _wait(queued: QueuedSms, until: datetime, now: datetime, queue: SmsQueue) -> str:
    """Back into the queue until `until` (SQS holds it at most 15 minutes: a longer wait
    comes back and is queued again)."""
    queue.send(queued.body(), sms_pacing.queue_delay(until, now))
    return "waiting"


def _no_longer_wanted(req: SendRequest, now: datetime) -> str | None:
    """What changed while the SMS waited that makes it wrong to send now (the sender's
    own checks, read again)."""
    if req.recall_id is not None:
        return recall_refusal(req, recall_store.get_recall(req.practice_id, req.recall_id))
    appointment = appointment_store.find_appointment(req.practice_id, req.appointment_id or "")
    return appointment_refusal(req, appointment, now)[0]

"""Recalls (K1-K5): who is due, the daily sweep, the tracked booking link, manual sends.

A recall period starts when a visit matching one of the practice's recall rules is
attended (due `interval_days` after it) or when the PMS sends `recall.due`. The daily
schedule of the practice (practice-local hour) sweeps the due queue: patients with a
future appointment are not recalled, the others get one recall message per period.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..adapters import scheduler
from ..adapters.invoker import Invoker
from ..adapters.link_keys import LinkKeys
from ..adapters.scheduler import SchedulerTarget
from ..contracts import SendRequest
from ..dal import appointments as appointment_store
from ..dal import ledger
from ..dal import practices as practice_store
from ..dal import recalls as store
from ..dal.callbacks import callback_item
from ..dal.errors import NotFoundError
from ..dal.ledger import MessageRef
from ..dal.practices import PracticeRecord
from ..domain.contact_validation import normalise_mobile
from ..domain.model import (
    Appointment,
    AppointmentStatus,
    Channel,
    DeliveryStatus,
    MessageKind,
    PracticeSettings,
    Recall,
    RecallCategory,
    RecallStatus,
    recalls_on,
)
from ..domain.patient_link import token_digest, token_in
from ..domain.quiet_hours import defer_out_of_quiet_hours
from ..observability import logger
from . import outcomes
from .errors import (
    LinkNotFoundError,
    NeedsConfirmationError,
    NotAMobileNumberError,
    RecallsOffError,
    UnknownPatientError,
)

if TYPE_CHECKING:  # the webhook's event models load only where events are taken
    from ..events import ManualRecall, RecallDueData

# K4: the reason the practice sees, word for word from the spec.
BLOCKED_REASON = "Mobile number blocked in your blocked communication list"
NEEDS_CONFIRMATION = "the patient declined marketing; recalls are transactional, confirm to send"
PENDING = (RecallStatus.DUE, RecallStatus.SENT)


def send_request(recall: Recall) -> SendRequest:
    return SendRequest.for_recall(recall.practice_id, recall.recall_id, recall.period)


def message_ref(recall: Recall) -> MessageRef:
    request = send_request(recall)
    return MessageRef(
        recall.practice_id, request.subject_id, recall.patient_id, request.message_id, MessageKind.RECALL
    )


def recall_link(base_url: str, token: str) -> str:
    """The link of a recall: a page with the practice's booking (K2)."""
    return f"{base_url.rstrip('/')}/r/{token}"


def recall_token_digest(links: LinkKeys, recall: Recall) -> str:
    return token_digest(links.recall_token(recall.practice_id, recall.recall_id, recall.period))


def escalation_at(recall: Recall, settings: PracticeSettings, sent_at: datetime) -> datetime:
    """K3: a result recall goes to SMS 2h after an unviewed push, a health recall 24h."""
    hours = (
        settings.recall_result_escalation_hours
        if recall.category is RecallCategory.RESULT
        else settings.recall_health_escalation_hours
    )
    return defer_out_of_quiet_hours(
        sent_at.astimezone(UTC) + timedelta(hours=hours),
        settings.timezone,
        settings.quiet_start,
        settings.quiet_end,
    )


# -- periods ---------------------------------------------------------------------------------
def due_day_start(visit_end: datetime, interval_days: int, timezone: str) -> datetime:
    """K1: due on the practice-local calendar day `interval_days` after the visit (from
    its first minute), so the sweep of that day sends it whatever DST did meanwhile."""
    zone = ZoneInfo(timezone)
    day = visit_end.astimezone(zone).date() + timedelta(days=interval_days)
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def on_appointment_change(
    old: Appointment | None, new: Appointment | None, practice: PracticeRecord, now: datetime, links: LinkKeys
) -> None:
    """Stream side of recalls: an attended visit starts a period (K1); a booking made
    from a recall link closes it and is counted (K2, K6). Both are idempotent."""
    if new is None:
        return
    if new.status is AppointmentStatus.ATTENDED and (old is None or old.status is not AppointmentStatus.ATTENDED):
        _start_periods_after_visit(new, practice, now, links)
    if old is None and new.recall_id:
        _attribute_booking(new, practice, now)


def _start_periods_after_visit(
    visit: Appointment, practice: PracticeRecord, now: datetime, links: LinkKeys
) -> None:
    settings = practice.settings_for(visit.calendar_id)
    for rule in settings.recall_rules:
        if not rule.applies_to(visit.appointment_type):
            continue
        recall = Recall(
            practice_id=visit.practice_id,
            patient_id=visit.patient_id,
            recall_type=rule.recall_type,
            category=rule.category,
            due_at=due_day_start(visit.end, rule.interval_days, settings.timezone),
            source="criteria",
            visit_end=visit.end,
            visit_type=visit.appointment_type,
            calendar_id=visit.calendar_id,
        )
        if store.start_period(recall, now, recall_token_digest(links, recall)):
            logger.info("recall period started", recall_type=rule.recall_type, due_at=recall.due_at.isoformat())


def follow_rules(recall: Recall, practice: PracticeRecord, now: datetime, links: LinkKeys) -> str | None:
    """C8 for K1: a recall period a visit started, not yet sent, follows the practice's
    recall rules as they are now: a new interval moves its due day (from the same visit), a
    new category goes with it; a rule gone, no longer covering the visit's type, or
    recalls switched off, stops it; a rule that covers the visit again starts it again.
    What was sent stays as it went; a PMS or manual recall is the practice's own. Returns
    "moved", "stopped", "started again" or None (nothing to do)."""
    following = (RecallStatus.DUE, RecallStatus.STOPPED)
    if recall.source != "criteria" or recall.status not in following or recall.visit_end is None:
        return None
    settings = practice.settings_for(recall.calendar_id)
    rules = settings.recall_rules if recalls_on(settings) else ()
    covering = (r for r in rules if r.recall_type == recall.recall_type and r.applies_to(recall.visit_type))
    rule = next(covering, None)
    if rule is None:
        if recall.status is RecallStatus.STOPPED:
            return None
        stopped = store.move_status(recall, RecallStatus.STOPPED, (RecallStatus.DUE,), now)
        return "stopped" if stopped else None
    due_at = due_day_start(recall.visit_end, rule.interval_days, settings.timezone)
    now_due = replace(recall, due_at=due_at, category=rule.category, status=RecallStatus.DUE)
    if now_due == recall:
        return None
    if not store.replace_period(now_due, now, recall_token_digest(links, now_due), recall):
        return None
    return "moved" if recall.status is RecallStatus.DUE else "started again"


def _attribute_booking(booking: Appointment, practice: PracticeRecord, now: datetime) -> None:
    recall = store.get_recall(booking.practice_id, booking.recall_id)
    if recall is None or not store.move_status(
        recall,
        RecallStatus.BOOKED,
        (*PENDING, RecallStatus.VIEWED),
        now,
        booked_appointment_id=booking.appointment_id,
    ):
        return
    outcomes.record(booking.practice_id, booking.calendar_id, practice.settings.timezone, now, recall_bookings=1)
    callback_item(
        booking.practice_id,
        "recall.booked",
        {
            "patient_id": booking.patient_id,
            "recall_type": recall.recall_type,
            "appointment_id": booking.appointment_id,
            "via": "recall link",
        },
        now,
    ).save()
    logger.info("booking from recall", recall_type=recall.recall_type)


def due_from_pms(practice_id: str, data: RecallDueData, now: datetime) -> Recall:
    """K1: a `recall.due` record from the PMS; the PMS's list is authoritative."""
    if not recalls_on(practice_store.get_practice(practice_id).settings):
        raise RecallsOffError()
    return Recall(
        practice_id=practice_id,
        patient_id=data.patient_id,
        recall_type=data.recall_type,
        category=data.category,
        due_at=data.due_at.astimezone(UTC),  # stored in UTC; the PMS may date it in its own time
        source="pms",
    )


def resolve_token(practice_id: str, patient_id: str, token: str | None, now: datetime) -> str:
    """K2: the recall a booking came from, if its token belongs to this patient."""
    if not token:
        return ""
    recall = store.find_by_token(token, now)
    if recall is None or (recall.practice_id, recall.patient_id) != (practice_id, patient_id):
        logger.info("booking carried an unknown recall token")
        return ""
    return recall.recall_id


# -- the daily sweep -------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    sent: list[str] = field(default_factory=list)
    not_needed: list[str] = field(default_factory=list)


def sweep(practice_id: str, now: datetime, invoker: Invoker) -> SweepOutcome:
    """K1: recall everyone due with no future appointment, once per period.

    The send is requested before the recall leaves the queue: a crash in between makes
    the next firing ask again, and the ledger claim of the message makes that harmless.
    """
    outcome = SweepOutcome()
    for recall in store.due_recalls(practice_id, now):
        if appointment_store.has_future_appointment(practice_id, recall.patient_id, now):
            if store.move_status(recall, RecallStatus.NOT_NEEDED, (RecallStatus.DUE,), now):
                ledger.record_skip(message_ref(recall), Channel.PUSH, "next appointment already booked", now)
            outcome.not_needed.append(recall.recall_id)
            continue
        invoker.send_now(send_request(recall))
        store.move_status(recall, RecallStatus.SENT, (RecallStatus.DUE,), now)
        outcome.sent.append(recall.recall_id)
    logger.info("recall sweep", sent=len(outcome.sent), not_needed=len(outcome.not_needed))
    return outcome


def sweep_name(practice_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in practice_id)
    return f"recalls.{safe}"[:64]


def plan_daily_sweep(practice: PracticeRecord, target: SchedulerTarget) -> bool:
    """The practice's recurring schedule at its local recall hour (created or updated),
    or none when the practice does not use recalls. True if it exists afterwards."""
    settings = practice.settings
    name = sweep_name(practice.practice_id)
    if not recalls_on(settings):
        scheduler.cancel_schedule(target, name)
        return False
    scheduler.plan_daily(
        target, name, settings.recall_hour, 0, settings.timezone, {"practice_id": practice.practice_id}
    )
    return True


# -- manual sends (K4, K5) -------------------------------------------------------------------
def manual_send(practice_id: str, request: ManualRecall, now: datetime, links: LinkKeys) -> dict[str, object]:
    """Send a recall now from the practice; no-marketing patients need `confirmed` (K5).

    A blocked number still gets the recall on its other channels, never by SMS (K4).
    """
    practice = practice_store.get_practice(practice_id)
    patient = practice_store.find_patient(practice_id, request.patient_id)
    if patient is None:
        raise UnknownPatientError(request.patient_id)
    if patient.no_marketing and not request.confirmed:
        raise NeedsConfirmationError(NEEDS_CONFIRMATION)
    recall = Recall(
        practice_id=practice_id,
        patient_id=patient.patient_id,
        recall_type=request.recall_type,
        category=request.category,
        due_at=now.replace(second=0, microsecond=0),
        source="manual",
        status=RecallStatus.SENT,
    )
    # Its stream record hands it to send_push (see on_recall_record).
    store.recall_item(recall, now, recall_token_digest(links, recall)).save()
    number = normalise_mobile(patient.phone, practice.settings.country)
    warnings = [BLOCKED_REASON] if number and store.is_blocked_for_recalls(practice_id, number) else []
    return {"status": "sending", "message_id": send_request(recall).message_id, "warnings": warnings}


def on_recall_record(raw_record: dict[str, Any], invoker: Invoker) -> bool:
    """Stream side of a manual recall: send it (a replay is stopped by the ledger claim)."""
    recall = store.from_image(raw_record.get("dynamodb", {}).get("NewImage") or {})
    if recall is None or recall.source != "manual" or recall.status is not RecallStatus.SENT:
        return False
    invoker.send_now(send_request(recall))
    return True


def block_number(practice_id: str, raw_number: str, blocked_recalls: bool, now: datetime) -> str:
    """K4: tick or untick "blocked recalls" on a number (stored in E.164)."""
    country = practice_store.get_practice(practice_id).settings.country
    number = normalise_mobile(raw_number, country)
    if number is None:
        raise NotAMobileNumberError("not a valid mobile number")
    store.set_blocked(practice_id, number, blocked_recalls, now)
    return number


def blocked_numbers(practice_id: str) -> list[dict[str, object]]:
    return store.blocked_numbers(practice_id)


# -- the patient's side ----------------------------------------------------------------------
def find_recall_link(token: str, now: datetime) -> tuple[Recall, PracticeSettings]:
    """The recall a link opens (LinkNotFoundError if unknown or expired). Looking records
    nothing: link scanners and chat previews open every link (a GET never changes
    anything), so "viewed" is only what the patient does on the page."""
    clean = token_in(token)
    found = store.find_by_token(clean, now) if clean else None
    recall = store.get_recall(found.practice_id, found.recall_id) if found else None
    if recall is None:
        raise LinkNotFoundError(token)
    try:
        return recall, practice_store.get_practice(recall.practice_id).settings
    except NotFoundError as exc:  # the practice left (D19)
        raise LinkNotFoundError(token) from exc


def act_on_recall_link(token: str, now: datetime) -> tuple[Recall, PracticeSettings]:
    """The patient acted on the recall (pressed "book"): viewed, so no escalation (K3)."""
    recall, settings = find_recall_link(token, now)
    if store.move_status(recall, RecallStatus.VIEWED, PENDING, now):
        ref = message_ref(recall)
        for channel in Channel:
            entry = ledger.get_entry(ref, channel)
            if entry is not None and entry.status == DeliveryStatus.SENT.value:
                ledger.transition(ref, channel, DeliveryStatus.OPENED, now)
        recall = replace(recall, status=RecallStatus.VIEWED)
    return recall, settings

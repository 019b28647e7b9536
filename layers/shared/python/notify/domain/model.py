"""Small immutable models the rules work on, and the enums spelled the same everywhere
(code, templates, ledger, API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from enum import StrEnum


class MessageKind(StrEnum):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    CANCELLATION = "cancellation"
    RESCHEDULE = "reschedule"
    REVIEW_REQUEST = "review_request"
    REBOOKING_PROMPT = "rebooking_prompt"
    SLOT_OFFER = "slot_offer"
    RECALL = "recall"
    REPLY = "reply"  # T1, T2: our answer to a patient's text


class Channel(StrEnum):
    PUSH = "push"
    SMS = "sms"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    PLANNED = "planned"
    SKIPPED = "skipped"
    # An SMS waiting in the paced queue for its moment (D17): sent when it leaves.
    QUEUED = "queued"
    SENT = "sent"
    OPENED = "opened"
    ACTED = "acted"
    ESCALATED = "escalated"
    FAILED = "failed"
    # A timed message's schedule row: planned -> fired (handed to its channels) or
    # cancelled (the appointment moved, was cancelled or switched off).
    FIRED = "fired"
    CANCELLED = "cancelled"
    # A practice event older than what the appointment already reflects (B9).
    STALE = "stale"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class BookingSource(StrEnum):
    APP = "app"
    PORTAL = "portal"
    PRACTICE = "practice"


class ReminderPolicy(StrEnum):
    LEAD_TIME = "lead_time"
    FIXED = "fixed"


class Actor(StrEnum):
    PATIENT = "patient"
    PRACTICE = "practice"


class RecallCategory(StrEnum):
    """K3: a result recall escalates to SMS after 2h unviewed, a health recall after 24h."""

    HEALTH = "health"
    RESULT = "result"


class RecallStatus(StrEnum):
    DUE = "due"
    SENT = "sent"
    VIEWED = "viewed"
    BOOKED = "rebooked"
    NOT_NEEDED = "not_needed"
    # C8: the practice's recall rules no longer recall the visit that started it (a rule
    # that covers the visit again starts it again).
    STOPPED = "stopped"


ACTIVE_STATUSES = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED})
# C1, K3: the patient has answered (no escalation SMS): an appointment confirmed, cancelled
# or over; a recall seen, booked from or no longer needed. The escalation state machine's
# choice is built from these too.
ANSWERED_APPOINTMENT = frozenset(
    {
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.ATTENDED,
        AppointmentStatus.NO_SHOW,
    }
)
# A practice's calendar when it names none; counters of what belongs to no appointment
# (recalls, replies) are kept under it too.
DEFAULT_CALENDAR = "default"
ANSWERED_RECALL = frozenset(
    {RecallStatus.VIEWED, RecallStatus.BOOKED, RecallStatus.NOT_NEEDED, RecallStatus.STOPPED}
)


@dataclass(frozen=True)
class RecallRule:
    """K1: a practice's recall criterion: who is due `interval_days` after their last
    attended visit of one of `appointment_types` (any type when empty)."""

    recall_type: str
    interval_days: int
    appointment_types: tuple[str, ...] = ()
    category: RecallCategory = RecallCategory.HEALTH

    def applies_to(self, appointment_type: str) -> bool:
        return not self.appointment_types or appointment_type.casefold() in {
            t.casefold() for t in self.appointment_types
        }


@dataclass(frozen=True)
class PracticeSettings:
    """Per-practice configuration; every number of the spec is a default here (C8)."""

    timezone: str = "UTC"
    country: str = "GB"
    locale: str = "en"
    name: str = ""
    reminder_policy: ReminderPolicy = ReminderPolicy.LEAD_TIME
    fixed_offset_hours: int = 24
    # R10: several reminders (hours before the start, e.g. (72, 24)); empty: R2's one.
    reminder_offsets_hours: tuple[int, ...] = ()
    # R10: a confirmed appointment is still reminded unless the practice turns this off.
    remind_after_confirmation: bool = True
    # R11: automated messages (reminders, offers, recalls, review and rebooking prompts) a
    # patient may get per practice-local day and ISO week.
    max_automated_per_day: int = 2
    max_automated_per_week: int = 5
    # A1: after a no-show, prompt the patient to book again (never a review request).
    rebook_after_no_show: bool = False
    push_fallback_minutes: int = 120
    no_fallback_types: tuple[str, ...] = ("COVID-19 vaccine",)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    uses_email: bool = True
    sms_quota: int = 50
    sms_quota_warning: float = 0.8
    sms_default_on: bool = True
    sms_transliterate: bool = False
    sms_max_segments: int = 3  # P6: a practice's own SMS template must fit this budget
    review_for_practice_bookings: bool = False
    templates: tuple[tuple[str, str], ...] = ()
    offers_enabled: bool = True
    offer_min_notice_hours: int = 48
    offer_min_gap_hours: int = 48
    offer_candidates: int = 10
    # F1 waves: a freed slot nobody took after `offer_wave_minutes` goes to the next
    # candidates, up to `offer_waves` rounds in all (1: only the first).
    offer_waves: int = 1
    offer_wave_minutes: int = 60
    # R4 (D22): the link page lets a patient ask the practice for another time.
    reschedule_requests: bool = True
    booking_url: str = ""
    phone: str = ""  # shown where a patient has to call (no online booking)
    review_url: str = ""
    after_booking_instructions: str = ""
    link_base_url: str = ""
    recalls_enabled: bool = False  # on as well whenever recall_rules are set
    recall_rules: tuple[RecallRule, ...] = ()
    recall_hour: int = 10
    # How long before the start a patient may still cancel from the link (the practice's
    # late-cancellation window); later, the page asks them to call.
    cancel_cutoff_minutes: int = 0
    # P2: message texts, links and recipients are kept this long after the appointment.
    retention_days: int = 90
    # B9: notices and freed-slot offers wait this long after a change, so that a burst
    # of edits (or events delivered out of order) ends in one message about the result.
    notice_delay_seconds: int = 60
    recall_result_escalation_hours: int = 2
    recall_health_escalation_hours: int = 24
    recall_sms: bool = True
    recall_email: bool = True
    # K2: the practice's own content in the confirmation of a booking made from a recall.
    map_url: str = ""
    parking_info: str = ""
    practitioner_photo_url: str = ""


def recalls_on(settings: PracticeSettings) -> bool:
    """K1: does this practice recall patients (its own criteria or the PMS's records)?"""
    return settings.recalls_enabled or bool(settings.recall_rules)


@dataclass(frozen=True)
class Appointment:
    practice_id: str
    appointment_id: str
    patient_id: str
    start: datetime
    end: datetime
    booked_at: datetime
    calendar_id: str = DEFAULT_CALENDAR
    appointment_type: str = ""
    practitioner: str = ""
    source: BookingSource = BookingSource.PRACTICE
    status: AppointmentStatus = AppointmentStatus.BOOKED
    version: int = 1
    notifications_enabled: bool = True
    cancelled_by: Actor | None = None
    link_generation: int = 1  # P3: a new generation revokes the patient link
    recall_id: str = ""
    # F4: on the ASAP list since then (offered freed slots first); None: not on it.
    asap_since: datetime | None = None
    # R4: the patient asked the practice for another time (D22); None: not asked, or the
    # practice has moved the appointment since.
    reschedule_requested_at: datetime | None = None
    # B9: per aspect (event_order.Aspect) the stamp of the change last applied.
    stamps: tuple[tuple[str, str], ...] = ()
    # When the time or status last changed (F1 measures the notice a freed slot gives).
    changed_at: datetime | None = None
    # F1: the practice said the time its newest move, or its cancellation, left is not
    # free for other patients (the practitioner is away). Per aspect, like the stamps (B9).
    moved_keeping_slot: bool = False
    cancelled_keeping_slot: bool = False
    # F1 (D23): the end of the freed slot this appointment moved into, while it is still
    # at the time the acceptance gave it; the rest of the slot after it is free for others.
    took_slot_until: datetime | None = None
    # What the patient and the practice's calendar were last told (B9: notices and freed
    # slots follow the settled state, never the states in between).
    announced: AppointmentSnapshot | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def stamp_map(self) -> dict[str, str]:
        return dict(self.stamps)

    def snapshot(self) -> AppointmentSnapshot:
        return AppointmentSnapshot(self.version, self.status, self.start, self.end, self.notifications_enabled)


@dataclass(frozen=True)
class AppointmentSnapshot:
    """The part of an appointment the patient and the practice's calendar know."""

    version: int
    status: AppointmentStatus
    start: datetime
    end: datetime
    notifications_enabled: bool = True

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class Patient:
    practice_id: str
    patient_id: str
    name: str = ""
    phone: str = ""
    email: str = ""
    locale: str = ""
    has_app: bool = False
    push_enabled: bool = False
    device_token: str = ""
    platform: str = ""
    push_endpoint: str = ""
    sms_enabled: bool | None = None
    email_enabled: bool = True
    attended_platform_booking: bool = False
    no_marketing: bool = False
    # C5: SES reported a hard bounce or a complaint for `email`.
    email_bounced: bool = False


@dataclass(frozen=True)
class Recall:
    """One recall of a patient for one recall type; `period` (its due time) makes each
    recall period send once (K1)."""

    practice_id: str
    patient_id: str
    recall_type: str
    category: RecallCategory
    due_at: datetime
    status: RecallStatus = RecallStatus.DUE
    source: str = "criteria"
    booked_appointment_id: str = ""
    # A period started by a visit (K1): the visit, so a change of the practice's recall
    # rules can move the period or end it (C8, D18). None for a PMS or manual recall.
    visit_end: datetime | None = None
    visit_type: str = ""
    calendar_id: str | None = None

    @property
    def recall_id(self) -> str:
        # A manual recall never replaces the patient's automated one of the same type.
        suffix = ".manual" if self.source == "manual" else ""
        return f"{self.patient_id}.{self.recall_type}{suffix}"

    @property
    def period(self) -> str:
        """The due minute, in UTC: a new visit, PMS record or manual send starts a new period.
        (A PMS dates its recalls in its own time; the same minute must name the same period
        wherever it is read: the link's token is made from it.)"""
        return self.due_at.astimezone(UTC).strftime("%Y%m%d%H%M")


class SlotStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"  # an offered patient took it (F2)
    FILLED = "filled"  # the practice booked someone into its time itself (F2)


@dataclass(frozen=True)
class FreedSlot:
    """A slot an appointment left (cancelled or moved), offered to later patients (F1)."""

    practice_id: str
    slot_id: str
    calendar_id: str
    start: datetime
    end: datetime
    practitioner: str = ""
    appointment_type: str = ""
    status: SlotStatus = SlotStatus.OPEN
    winner_appointment_id: str | None = None
    left_by: str = ""  # the patient whose appointment left the slot (never offered it)
    opened_at: datetime | None = None  # when it was offered (A1: time to fill)
    # B9: the stamp of the change that freed it; an appointment that came to its time
    # by a newer change fills it (F2), one that was there before shares the time.
    freed_stamp: str = ""
    # The appointment that filled it (FILLED): the practice's own booking.
    filled_by: str | None = None
    wave: int = 1  # the offers' rounds so far (F1 waves)


@dataclass(frozen=True)
class PlannedMessage:
    """A message of an appointment due at a time (a one-shot schedule on AWS)."""

    kind: MessageKind
    due_at: datetime
    offset_hours: int | None = None  # R10: which of several reminders (None: R2's one)
    # Minutes after `due_at` within which it may go out (Scheduler's flexible time window);
    # 0: exactly at `due_at`. Reminders, review requests and rebooking prompts spread (issue
    # 16); escalations, notices and offers never do.
    window_minutes: int = 0


@dataclass(frozen=True)
class ChannelsOffered:
    """What the deployment can send with: push per device platform, email at all (a
    deploy may say "no push" or "no email")."""

    push_platforms: frozenset[str] = frozenset({"android", "ios"})
    email: bool = True


ALL_CHANNELS = ChannelsOffered()


@dataclass(frozen=True)
class ChannelDecision:
    """Channels to send on, in order, and the channels skipped with their reason (C5)."""

    channels: tuple[Channel, ...]
    skipped: tuple[tuple[Channel, str], ...] = field(default=())

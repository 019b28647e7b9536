"""R11: one message per phone per day, and the caps on automated messages.

Reminders from one practice to one mobile number for appointments on the same local day
(a family sharing a phone, one patient with two visits) go as one SMS listing them, with
one page for all (`/g/{token}`) and one answer for all (T1). The first reminder of the day
to fire writes the group (a conditional put): it sends, listing every appointment of that
day of that number that would go by SMS; the others find themselves in the group and
skip. A retry of the owner finds itself the owner and sends (the ledger claim keeps it
single). The group's token is derived like a link's (P3) from practice, number and both
days, so every sender of the day finds the same group.

Caps: a patient gets at most `max_automated_per_day` automated messages a practice-local
day and `max_automated_per_week` an ISO week; confirmations, notices of a change the
practice made (reschedule, cancellation) and answers to the patient's own action are
exempt. Each message counts once, whatever the channel and however often it is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..adapters.link_keys import LinkKeys
from ..dal import appointments as appointment_store
from ..dal import practices as practice_store
from ..dal import reminder_groups as store
from ..dal.errors import NotFoundError
from ..dal.practices import PracticeRecord
from ..domain.channel_choice import choose_channels
from ..domain.model import Appointment, Channel, ChannelsOffered, MessageKind, Patient, PracticeSettings
from ..domain.patient_link import group_link_input, group_url, token_digest
from ..rendering import local_times

AUTOMATED = frozenset(
    {
        MessageKind.REMINDER,
        MessageKind.SLOT_OFFER,
        MessageKind.RECALL,
        MessageKind.REVIEW_REQUEST,
        MessageKind.REBOOKING_PROMPT,
    }
)
KEEP_GROUP = timedelta(days=2)  # the group page stays as long as the appointments' links


def covered_reason(owner: str) -> str:
    return f"sent together with {owner} (R11: one message per number a day)"


def cap_reason(period: str) -> str:
    return f"the patient's {period} limit of automated messages is reached (R11)"


@dataclass(frozen=True)
class Grouping:
    """What this reminder does: send alone, send for the group, or skip (covered)."""

    members: tuple[tuple[Appointment, Patient], ...] = ()  # every appointment listed, own first
    token: str = ""
    covered_by: str | None = None

    @property
    def grouped(self) -> bool:
        return len(self.members) > 1


def group_token(links: LinkKeys, appointment: Appointment, number: str, timezone: str, sent_at: datetime) -> str:
    """The token of the group of `appointment`'s day for `number`, sent on `sent_at`'s day
    (every sender of that day, and the answer to it, derive the same one)."""
    zone = ZoneInfo(timezone)
    day, send_day = appointment.start.astimezone(zone).date(), sent_at.astimezone(zone).date()
    return links.token(group_link_input(appointment.practice_id, number, day.isoformat(), send_day.isoformat()))


def group_reminder(
    message_id: str,
    appointment: Appointment,
    patient: Patient,
    number: str,
    practice: PracticeRecord,
    offered: ChannelsOffered,
    links: LinkKeys,
    now: datetime,
) -> Grouping:
    settings = practice.settings_for(appointment.calendar_id)
    zone = ZoneInfo(settings.timezone)
    day = appointment.start.astimezone(zone).date()
    practice_id = appointment.practice_id
    token = group_token(links, appointment, number, settings.timezone, now)
    others = _same_day_by_sms(practice, appointment, patient, number, day, zone, offered)
    wanted = [appointment.appointment_id] + [a.appointment_id for a, _ in others]
    expires = datetime.combine(day, time(0), zone).astimezone(UTC) + timedelta(days=1) + KEEP_GROUP
    group = store.claim_group(token_digest(token), practice_id, message_id, wanted, day.isoformat(), expires)
    if group.owner != message_id:
        if appointment.appointment_id in group.appointment_ids:
            return Grouping(covered_by=group.owner)
        return Grouping(((appointment, patient),))  # booked after the group went: alone
    members = [(appointment, patient)] + [
        m for m in _load(practice_id, group.appointment_ids[1:]) if m[0].is_active
    ]
    return Grouping(tuple(members), token)


def group_key(token: str) -> str:
    """What the table files the group under: a digest, no capability (a queued SMS may
    carry it, D17)."""
    return token_digest(token)


def release(key: str, message_id: str) -> None:
    """The group's SMS did not go (the quota, the caps, a STOP, the provider): it covers
    nobody. Released, so each member still to fire goes on its own channels (and may form
    the day's group again); its owner's message went, or was recorded, as itself."""
    store.release_group(key, message_id)


def _same_day_by_sms(
    practice: PracticeRecord,
    own: Appointment,
    patient: Patient,
    number: str,
    day: date,
    zone: ZoneInfo,
    offered: ChannelsOffered,
) -> list[tuple[Appointment, Patient]]:
    """The other active appointments that day of everyone with this number whose reminder
    would go by SMS (a family member with the app gets theirs by push)."""
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    found: list[tuple[Appointment, Patient]] = []
    for patient_id in sorted({patient.patient_id, *store.patients_with_number(own.practice_id, number)}):
        other = (
            patient
            if patient_id == patient.patient_id
            else practice_store.find_patient(own.practice_id, patient_id)
        )
        if other is None:
            continue
        for appointment in store.appointments_between(
            own.practice_id, patient_id, start, start + timedelta(days=1)
        ):
            if appointment.appointment_id == own.appointment_id or not appointment.is_active:
                continue
            settings = practice.settings_for(appointment.calendar_id)
            channels = choose_channels(MessageKind.REMINDER, other, appointment, settings, offered).channels
            if channels[:1] == (Channel.SMS,):
                found.append((appointment, other))
    return sorted(found, key=lambda m: (m[0].start, m[0].appointment_id))


def _load(practice_id: str, appointment_ids: tuple[str, ...]) -> list[tuple[Appointment, Patient]]:
    members = []
    for appointment_id in appointment_ids:
        try:
            appointment, _ = appointment_store.get_appointment(practice_id, appointment_id)
        except NotFoundError:
            continue
        patient = practice_store.find_patient(practice_id, appointment.patient_id)
        if patient is not None:
            members.append((appointment, patient))
    return members


def group_context(grouping: Grouping, settings: PracticeSettings, locale: str, base_url: str) -> dict[str, str]:
    """The template values of a grouped reminder: the day, the list, the group's page."""
    first = grouping.members[0][0]
    listed = sorted(grouping.members, key=lambda m: (m[0].start, m[0].appointment_id))
    lines = [
        f"{local_times(a.start, settings.timezone, locale)['time']} {(p.name.split() or [''])[0]}".strip()
        for a, p in listed
    ]
    return {
        "appointments": ", ".join(lines),
        "day_short": local_times(first.start, settings.timezone, locale)["day_short"],
        "link": group_url(settings.link_base_url or base_url, grouping.token),
    }


def _periods(settings: PracticeSettings, now: datetime) -> list[tuple[str, int, datetime]]:
    local = now.astimezone(ZoneInfo(settings.timezone))
    year, week, _ = local.isocalendar()
    return [
        (f"D{local.date().isoformat()}", settings.max_automated_per_day, now + timedelta(days=2)),
        (f"W{year}-{week:02d}", settings.max_automated_per_week, now + timedelta(days=8)),
    ]


def within_caps(
    practice_id: str, patient_id: str, message_id: str, settings: PracticeSettings, now: datetime
) -> str | None:
    """Count an automated message against the patient's caps; the reason when over."""
    if store.count_message(practice_id, patient_id, _periods(settings, now), message_id):
        return None
    return cap_reason("daily or weekly")


def give_back(
    practice_id: str, patient_id: str, message_id: str, settings: PracticeSettings, now: datetime
) -> None:
    """The message went out on no channel: it does not count."""
    store.uncount_message(practice_id, patient_id, [p for p, _, _ in _periods(settings, now)], message_id)

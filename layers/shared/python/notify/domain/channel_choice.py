"""Which channels a message goes on (C1, C3, C5, C6, R6, K2)."""

from __future__ import annotations

from .contact_validation import is_valid_email, normalise_mobile
from .model import (
    ALL_CHANNELS,
    Appointment,
    BookingSource,
    Channel,
    ChannelDecision,
    ChannelsOffered,
    MessageKind,
    Patient,
    PracticeSettings,
)

# R6: practice-created / practice-rescheduled notices go by email AND push.
NOTICE_KINDS = frozenset({MessageKind.CONFIRMATION, MessageKind.RESCHEDULE})


def push_ineligibility(
    patient: Patient, appointment: Appointment | None, offered: ChannelsOffered = ALL_CHANNELS
) -> str | None:
    """Why push cannot be used for this patient (C3), or None when it can.

    The patient needs the app, a registered device and push enabled; for a booking not
    made in the app, an earlier attended platform booking at this practice as well.
    """
    if not patient.has_app:
        return "patient does not have the app"
    if not (patient.device_token or patient.push_endpoint):
        return "no registered device"
    if not patient.push_enabled:
        return "push disabled by patient"
    if (patient.platform or "android") not in offered.push_platforms:
        return "push is not set up for this device's platform"
    if appointment is None:
        return None  # a recall (K2): there is no booking whose source would matter
    booked_in_app = appointment.source is BookingSource.APP
    if not booked_in_app and not patient.attended_platform_booking:
        return "no earlier attended platform booking at this practice"
    return None


def sms_ineligibility(patient: Patient, settings: PracticeSettings) -> str | None:
    """Why SMS cannot be used (C5 contact data, C6 patient switch), or None."""
    enabled = settings.sms_default_on if patient.sms_enabled is None else patient.sms_enabled
    if not enabled:
        return "SMS switched off for this patient"
    if normalise_mobile(patient.phone, settings.country) is None:
        return "no valid mobile number"
    return None


def email_ineligibility(
    patient: Patient, settings: PracticeSettings, offered: ChannelsOffered = ALL_CHANNELS
) -> str | None:
    """Why email cannot be used (deployment, practice setting, C6 switch, C5 address)."""
    if not offered.email:
        return "email is not set up for this service"
    if not settings.uses_email:
        return "practice does not use email"
    if not patient.email_enabled:
        return "email switched off for this patient"
    if not is_valid_email(patient.email):
        return "no valid email address"
    if patient.email_bounced:
        return "email address bounced"
    return None


def choose_channels(
    kind: MessageKind,
    patient: Patient,
    appointment: Appointment | None,
    settings: PracticeSettings,
    offered: ChannelsOffered = ALL_CHANNELS,
) -> ChannelDecision:
    """Return the channels to send `kind` on, with the skipped ones and why.

    Push first (C1). Without push: SMS, plus email where the practice uses email (C3).
    R6 notices go by email and push together (SMS comes later, by escalation).
    """
    skipped: list[tuple[Channel, str]] = []
    push_reason = push_ineligibility(patient, appointment, offered)
    sms_reason = sms_ineligibility(patient, settings)
    email_reason = email_ineligibility(patient, settings, offered)
    if kind in NOTICE_KINDS and appointment is not None and appointment.source is BookingSource.PRACTICE:
        chosen = [c for c, r in ((Channel.EMAIL, email_reason), (Channel.PUSH, push_reason)) if r is None]
        skipped += [
            (c, r) for c, r in ((Channel.EMAIL, email_reason), (Channel.PUSH, push_reason)) if r is not None
        ]
        if not chosen:
            if sms_reason is None:
                chosen = [Channel.SMS]
            else:
                skipped.append((Channel.SMS, sms_reason))
        return ChannelDecision(tuple(chosen), tuple(skipped))
    if push_reason is None:
        return ChannelDecision((Channel.PUSH,), ())
    skipped.append((Channel.PUSH, push_reason))
    if kind is MessageKind.RECALL:
        # K2: "SMS and / or email", as the practice chose for recalls.
        if not settings.recall_sms and sms_reason is None:
            sms_reason = "practice does not send recalls by SMS"
        if not settings.recall_email and email_reason is None:
            email_reason = "practice does not send recalls by email"
    chosen = []
    for channel, reason in ((Channel.SMS, sms_reason), (Channel.EMAIL, email_reason)):
        if reason is None:
            chosen.append(channel)
        else:
            skipped.append((channel, reason))
    return ChannelDecision(tuple(chosen), tuple(skipped))

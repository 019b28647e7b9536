"""C1, C3, C5, C6, R6: which channels a message goes on, and why others are skipped."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from notify.domain.channel_choice import choose_channels, push_ineligibility
from notify.domain.contact_validation import is_valid_email, normalise_mobile
from notify.domain.model import (
    Appointment,
    BookingSource,
    Channel,
    MessageKind,
    Patient,
    PracticeSettings,
)

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
SETTINGS = PracticeSettings(country="PL")
APP_PATIENT = Patient(
    "p1", "pat1", phone="601234567", email="a@example.com", has_app=True, push_enabled=True, device_token="tok"
)


def appt(source: BookingSource) -> Appointment:
    return Appointment(
        "p1", "a1", "pat1", NOW + timedelta(days=3), NOW + timedelta(days=3, hours=1), NOW, source=source
    )


def test_c1_push_first_for_an_eligible_patient():
    decision = choose_channels(MessageKind.REMINDER, APP_PATIENT, appt(BookingSource.APP), SETTINGS)
    assert decision.channels == (Channel.PUSH,)


def test_c3_practice_booking_needs_an_earlier_attended_platform_booking():
    reason = push_ineligibility(APP_PATIENT, appt(BookingSource.PRACTICE))
    assert reason == "no earlier attended platform booking at this practice"
    from dataclasses import replace

    veteran = replace(APP_PATIENT, attended_platform_booking=True)
    assert push_ineligibility(veteran, appt(BookingSource.PRACTICE)) is None


def test_c3_without_push_the_message_goes_by_sms_and_email():
    patient = Patient("p1", "pat1", phone="601234567", email="a@example.com")
    decision = choose_channels(MessageKind.REMINDER, patient, appt(BookingSource.PORTAL), SETTINGS)
    assert decision.channels == (Channel.SMS, Channel.EMAIL)
    assert (Channel.PUSH, "patient does not have the app") in decision.skipped


def test_c3_push_disabled_or_no_device_is_not_eligible():
    from dataclasses import replace

    assert (
        push_ineligibility(replace(APP_PATIENT, push_enabled=False), appt(BookingSource.APP))
        == "push disabled by patient"
    )
    assert (
        push_ineligibility(replace(APP_PATIENT, device_token=""), appt(BookingSource.APP))
        == "no registered device"
    )


def test_c5_invalid_contacts_are_skipped_with_their_reason():
    patient = Patient("p1", "pat1", phone="12345", email="not-an-email")
    decision = choose_channels(MessageKind.CONFIRMATION, patient, appt(BookingSource.PRACTICE), SETTINGS)
    assert decision.channels == ()
    assert (Channel.SMS, "no valid mobile number") in decision.skipped
    assert (Channel.EMAIL, "no valid email address") in decision.skipped


def test_c5_mobile_numbers_are_normalised_with_the_practice_country():
    assert normalise_mobile("601 234 567", "PL") == "+48601234567"
    assert normalise_mobile("06 12 34 56 78", "FR") == "+33612345678"
    assert normalise_mobile("+44 7911 123456", "PL") == "+447911123456"
    assert normalise_mobile("22 123 45 67", "PL") is None  # Warsaw landline
    assert normalise_mobile("garbage", "PL") is None


def test_c5_email_validation():
    assert is_valid_email("jan.kowalski+rdv@poczta.example.pl")
    for bad in ("", "jan", "jan@", "@x.pl", "jan@x", "jan@@x.pl", "j an@x.pl", "a..b@x.pl"):
        assert not is_valid_email(bad), bad


def test_c6_patient_switches_turn_channels_off():
    patient = Patient(
        "p1", "pat1", phone="601234567", email="a@example.com", sms_enabled=False, email_enabled=False
    )
    decision = choose_channels(MessageKind.REMINDER, patient, appt(BookingSource.PORTAL), SETTINGS)
    assert decision.channels == ()
    assert (Channel.SMS, "SMS switched off for this patient") in decision.skipped
    assert (Channel.EMAIL, "email switched off for this patient") in decision.skipped


def test_c6_sms_default_follows_the_practice_plan():
    patient = Patient("p1", "pat1", phone="601234567")
    off_plan = PracticeSettings(country="PL", sms_default_on=False, uses_email=False)
    assert choose_channels(MessageKind.REMINDER, patient, appt(BookingSource.PORTAL), off_plan).channels == ()
    on_plan = PracticeSettings(country="PL", uses_email=False)
    assert choose_channels(MessageKind.REMINDER, patient, appt(BookingSource.PORTAL), on_plan).channels == (
        Channel.SMS,
    )


def test_r6_practice_reschedule_notice_goes_by_email_and_push():
    from dataclasses import replace

    veteran = replace(APP_PATIENT, attended_platform_booking=True)
    decision = choose_channels(MessageKind.RESCHEDULE, veteran, appt(BookingSource.PRACTICE), SETTINGS)
    assert set(decision.channels) == {Channel.EMAIL, Channel.PUSH}


@given(
    has_app=st.booleans(),
    push=st.booleans(),
    token=st.booleans(),
    attended=st.booleans(),
    source=st.sampled_from(list(BookingSource)),
    phone=st.sampled_from(["601234567", "1"]),
    email=st.sampled_from(["a@example.com", "x"]),
)
def test_c3_push_is_chosen_exactly_when_eligible(has_app, push, token, attended, source, phone, email):
    patient = Patient(
        "p1",
        "pat1",
        phone=phone,
        email=email,
        has_app=has_app,
        push_enabled=push,
        device_token="t" if token else "",
        attended_platform_booking=attended,
    )
    decision = choose_channels(MessageKind.REMINDER, patient, appt(source), SETTINGS)
    eligible = has_app and push and token and (source is BookingSource.APP or attended)
    assert (Channel.PUSH in decision.channels) == eligible
    if eligible:
        assert decision.channels == (Channel.PUSH,)
    chosen_or_skipped = set(decision.channels) | {c for c, _ in decision.skipped}
    assert Channel.PUSH in chosen_or_skipped


def test_c3_a_deploy_without_push_for_a_platform_sends_that_patient_by_sms():
    from notify.domain.model import ChannelsOffered

    no_android = ChannelsOffered(push_platforms=frozenset({"ios"}), email=True)
    decision = choose_channels(MessageKind.REMINDER, APP_PATIENT, appt(BookingSource.APP), SETTINGS, no_android)
    assert decision.channels == (Channel.SMS, Channel.EMAIL)
    assert (Channel.PUSH, "push is not set up for this device's platform") in decision.skipped


def test_c5_a_deploy_without_email_and_a_bounced_address_skip_email_with_their_reason():
    from dataclasses import replace

    from notify.domain.model import ChannelsOffered

    patient = Patient("p1", "pat1", phone="601234567", email="a@example.com")
    no_email = choose_channels(
        MessageKind.REMINDER, patient, appt(BookingSource.APP), SETTINGS, ChannelsOffered(email=False)
    )
    assert (Channel.EMAIL, "email is not set up for this service") in no_email.skipped
    bounced = choose_channels(
        MessageKind.REMINDER, replace(patient, email_bounced=True), appt(BookingSource.APP), SETTINGS
    )
    assert bounced.channels == (Channel.SMS,)
    assert (Channel.EMAIL, "email address bounced") in bounced.skipped

"""Sending on AWS: what a deploy configures per channel (explicit "none" modes, the SMS
origination identity per destination country, the SES configuration set)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from notify.adapters.channels import ChannelConfig, from_tag_value, our_number, sms_attributes, tag_value
from notify.domain.contact_validation import number_country
from notify.settings import SenderSettings

BASE = {
    "TABLE_NAME": "t",
    "PUBLIC_BASE_URL": "https://x.example/v1/",
    "EMAIL_CONFIGURATION_SET": "cs",
    "ESCALATION_STATE_MACHINE_ARN": "arn:sm",
    "LINK_KEY_ARN": "arn:aws:kms:eu-central-1:1:key/links",
    "PUSH_FCM_ARN": "arn:aws:sns:eu-central-1:1:app/GCM/a",
    "PUSH_APNS_ARN": "none",
    "EMAIL_FROM": "no-reply@clinic.example",
    "SMS_TWO_WAY_NUMBER_ID": "none",
    "SMS_PARTS_PER_SECOND": "20",
    "SMS_URGENT_SHARE_PERCENT": "30",
    "SMS_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/1/paced-sms",
}


def test_sending_none_turns_a_channel_off_and_anything_else_must_be_valid():
    config = ChannelConfig.from_settings(
        SenderSettings.model_validate({**BASE, "EMAIL_FROM": "none", "SMS_ORIGINATIONS": "{}"})
    )
    assert config.push_platforms == frozenset({"android"})
    assert not config.email
    with pytest.raises(ValidationError):
        SenderSettings.model_validate({**BASE, "EMAIL_FROM": "noreply"})


def test_sending_sms_come_from_the_destination_countrys_identity():
    originations = {"PL": {"origination": "+48732000000"}, "FR": {"sender_id": "CLINIQUE"}}
    config = ChannelConfig.from_settings(
        SenderSettings.model_validate({**BASE, "SMS_ORIGINATIONS": json.dumps(originations)})
    )
    polish = sms_attributes(config.sms_originations.get(number_country("+48601234567")))
    assert polish["AWS.MM.SMS.OriginationNumber"]["StringValue"] == "+48732000000"
    assert "AWS.SNS.SMS.SenderID" not in polish
    french = sms_attributes(config.sms_originations.get(number_country("+33612345678")))
    assert french["AWS.SNS.SMS.SenderID"]["StringValue"] == "CLINIQUE"
    british = sms_attributes(config.sms_originations.get(number_country("+447700900123")))
    assert set(british) == {"AWS.SNS.SMS.SMSType"}  # SNS chooses


def test_sending_bad_origination_settings_fail_at_cold_start():
    for bad in ('{"pl": {}}', '{"PL": {"sender_id": "FAR-TOO-LONG-ID"}}', "[1]", "not json"):
        with pytest.raises(ValidationError):
            SenderSettings.model_validate({**BASE, "SMS_ORIGINATIONS": bad})


def test_sending_email_tags_round_trip_ids_ses_would_refuse():
    for value in ("p-123", "practice.one:a_b", "zażółć"):
        encoded = tag_value(value)
        assert all(c.isalnum() or c in "_-" for c in encoded) and from_tag_value(encoded) == value


def test_t1_patients_are_invited_to_answer_only_a_two_way_number():
    """A sender id takes no answers, and without two-way on nobody reads them: the texts
    then offer the link only."""
    originations = json.dumps({"PL": {"origination": "+48732000000"}, "FR": {"sender_id": "CLINIQUE"}})
    two_way = ChannelConfig.from_settings(
        SenderSettings.model_validate(
            {**BASE, "SMS_ORIGINATIONS": originations, "SMS_TWO_WAY_NUMBER_ID": "phone-" + "ab" * 16}
        )
    )
    assert our_number(two_way, "PL") == "+48732000000"
    assert our_number(two_way, "FR") is None  # sender id
    assert our_number(two_way, "GB") is None  # the provider picks a number
    one_way = ChannelConfig.from_settings(
        SenderSettings.model_validate({**BASE, "SMS_ORIGINATIONS": originations})
    )
    assert our_number(one_way, "PL") is None
    with pytest.raises(ValidationError):
        SenderSettings.model_validate({**BASE, "SMS_TWO_WAY_NUMBER_ID": "+48732000000"})


def test_b8_the_urgent_share_of_the_sms_rate_is_the_deployments():
    """D17: urgent SMS have their share of every rate (SmsUrgentSharePercent), routine ones
    the rest; an identity with its own rate is split the same way."""
    from notify.domain.sms_pacing import Lane

    originations = json.dumps({"US": {"origination": "+18005550100", "parts_per_second": 3}})
    config = ChannelConfig.from_settings(
        SenderSettings.model_validate({**BASE, "SMS_ORIGINATIONS": originations, "SMS_URGENT_SHARE_PERCENT": "50"})
    )
    assert [r.parts_per_second for r in config.sms_rates("US", Lane.URGENT)] == [10.0, 1.5]
    assert [r.parts_per_second for r in config.sms_rates("US", Lane.ROUTINE)] == [10.0, 1.5]
    default = ChannelConfig.from_settings(SenderSettings.model_validate({**BASE, "SMS_ORIGINATIONS": "{}"}))
    assert [r.parts_per_second for r in default.sms_rates("PL", Lane.URGENT)] == [6.0]
    for outside in ("5", "95", "thirty"):
        with pytest.raises(ValidationError):
            SenderSettings.model_validate({**BASE, "SMS_URGENT_SHARE_PERCENT": outside})

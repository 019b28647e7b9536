"""Push (SNS mobile push), SMS (SNS) and email (SES v2) senders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..domain.sms_pacing import URGENT_SHARE, Lane, Rate, rates
from ..settings import NOT_CONFIGURED, FallbackSettings, SmsOrigination, SmsSettings
from .aws_clients import client


class ChannelError(Exception):
    """The provider refused the message (bad endpoint, opted-out number...)."""


@dataclass(frozen=True)
class ChannelConfig:
    """What the deployment sends with (from the function's validated settings)."""

    push_apps: dict[str, str] = field(default_factory=dict)  # platform -> application ARN
    email_from: str = ""
    configuration_set: str = ""
    sms_originations: dict[str, SmsOrigination] = field(default_factory=dict)
    two_way: bool = False  # a number of ours takes patients' answers (T1)
    sms_parts_per_second: float = 20.0  # the account's SMS rate (D17)
    sms_urgent_share: float = URGENT_SHARE  # the part of each rate urgent SMS have (D17)

    @classmethod
    def from_settings(cls, settings: FallbackSettings) -> ChannelConfig:
        apps = {
            platform: arn
            for platform, arn in (("android", settings.push_fcm_arn), ("ios", settings.push_apns_arn))
            if arn != NOT_CONFIGURED
        }
        email = "" if settings.email_from == NOT_CONFIGURED else settings.email_from
        sms = cls.for_sms(settings)
        return cls(
            apps,
            email,
            settings.email_configuration_set,
            sms.sms_originations,
            sms.two_way,
            sms.sms_parts_per_second,
            sms.sms_urgent_share,
        )

    @classmethod
    def for_sms(cls, settings: SmsSettings) -> ChannelConfig:
        """SMS only (the paced queue's sender)."""
        return cls(
            sms_originations=dict(settings.sms_originations),
            two_way=settings.sms_two_way_number_id != NOT_CONFIGURED,
            sms_parts_per_second=settings.sms_parts_per_second,
            sms_urgent_share=settings.sms_urgent_share_percent / 100,
        )

    def sms_rates(self, country: str, lane: Lane) -> tuple[Rate, ...]:
        """The lanes an SMS to `country` reserves on (D17): the account's, and its
        identity's when the deployment names that identity's rate."""
        origination = self.sms_originations.get(country)
        identity = origination.parts_per_second if origination is not None else None
        return rates(self.sms_parts_per_second, country, identity, lane, self.sms_urgent_share)

    @property
    def push_platforms(self) -> frozenset[str]:
        return frozenset(self.push_apps)

    @property
    def email(self) -> bool:
        return bool(self.email_from)


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    deep_link: str
    data: dict[str, str]


def register_device(config: ChannelConfig, token: str, platform: str = "android") -> str:
    """Return the SNS endpoint ARN for a device token (idempotent on SNS's side)."""
    response = client("sns").create_platform_endpoint(
        PlatformApplicationArn=config.push_apps[platform], Token=token
    )
    return str(response["EndpointArn"])


def delete_endpoint(endpoint_arn: str) -> bool:
    """Forget a device (P1: its patient was erased). SNS deletes idempotently."""
    client("sns").delete_endpoint(EndpointArn=endpoint_arn)
    return True


def send_push(endpoint_arn: str, message: PushMessage) -> str:
    """Publish to one device; the payload opens the appointment in the app (C4)."""
    fcm = {
        "notification": {"title": message.title, "body": message.body},
        "data": {**message.data, "deep_link": message.deep_link},
    }
    apns = {
        "aps": {"alert": {"title": message.title, "body": message.body}, "category": "APPOINTMENT_ACTIONS"},
        **message.data,
        "deep_link": message.deep_link,
    }
    payload = {"default": message.body, "GCM": json.dumps(fcm), "APNS": json.dumps(apns)}
    sns = client("sns")
    try:
        response = sns.publish(TargetArn=endpoint_arn, Message=json.dumps(payload), MessageStructure="json")
    except (sns.exceptions.EndpointDisabledException, sns.exceptions.InvalidParameterException) as exc:
        raise ChannelError(str(exc)) from exc
    return str(response["MessageId"])


def is_opted_out(phone_e164: str) -> bool:
    """B7: the provider's (account-wide) STOP list."""
    response = client("sns").check_if_phone_number_is_opted_out(phoneNumber=phone_e164)
    return bool(response["isOptedOut"])


def sms_attributes(origination: SmsOrigination | None) -> dict[str, dict[str, str]]:
    """SNS message attributes of one SMS: transactional, from the country's identity."""
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if origination is not None and origination.origination:
        attributes["AWS.MM.SMS.OriginationNumber"] = {"DataType": "String", "StringValue": origination.origination}
    if origination is not None and origination.sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": origination.sender_id}
    return attributes


def our_number(config: ChannelConfig, country: str) -> str | None:
    """The number our SMS to `country` come from when patients can answer it: two-way SMS
    is on and the country's identity is a phone number (a sender id takes no replies, and
    without an identity the provider picks a number we cannot name)."""
    origination = config.sms_originations.get(country)
    if not config.two_way or origination is None or not origination.origination.startswith("+"):
        return None
    return origination.origination


class ChannelThrottled(Exception):
    """The provider took nothing: over the rate (the SMS is tried again, D17)."""


def send_sms(config: ChannelConfig, phone_e164: str, country: str, text: str) -> str:
    """Send one SMS from the origination identity configured for `country`."""
    sns = client("sns")
    try:
        response = sns.publish(
            PhoneNumber=phone_e164,
            Message=text,
            MessageAttributes=sms_attributes(config.sms_originations.get(country)),
        )
    except sns.exceptions.ThrottledException as exc:
        raise ChannelThrottled(str(exc)) from exc
    return str(response["MessageId"])


_TAG_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def tag_value(value: str) -> str:
    """SES tag values allow only letters, digits, '_' and '-': everything else (and '_'
    itself) is written `_hh` (its UTF-8 bytes in hex), so the value can be read back."""
    return "".join(c if c in _TAG_SAFE else "".join(f"_{b:02x}" for b in c.encode()) for c in value)


def from_tag_value(value: str) -> str:
    """The value `tag_value` encoded."""
    out = bytearray()
    index = 0
    while index < len(value):
        if value[index] == "_":
            out.append(int(value[index + 1 : index + 3], 16))
            index += 3
        else:
            out += value[index].encode()
            index += 1
    return out.decode()


def send_email(config: ChannelConfig, to: str, subject: str, text: str, html: str, tags: dict[str, str]) -> str:
    """Send through the configuration set, tagged so a bounce finds its patient (C5)."""
    request: dict[str, Any] = {
        "FromEmailAddress": config.email_from,
        "Destination": {"ToAddresses": [to]},
        "Content": {
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
            }
        },
        "EmailTags": [{"Name": k, "Value": tag_value(v)} for k, v in tags.items()],
    }
    if config.configuration_set:
        request["ConfigurationSetName"] = config.configuration_set
    response = client("sesv2").send_email(**request)
    return str(response["MessageId"])

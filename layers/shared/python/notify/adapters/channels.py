"""Push (SNS mobile push), SMS (SNS) and email (SES v2) senders."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .aws_clients import client


class ChannelError(Exception):
    """The provider refused the message (bad endpoint, opted-out number...)."""


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    deep_link: str
    data: dict[str, str]


def register_device(token: str, platform: str = "android") -> str:
    """Return the SNS endpoint ARN for a device token (idempotent on SNS's side)."""
    app_arn = os.environ["PUSH_APNS_ARN" if platform == "ios" else "PUSH_FCM_ARN"]
    response = client("sns").create_platform_endpoint(PlatformApplicationArn=app_arn,
                                                      Token=token)
    return str(response["EndpointArn"])


def send_push(endpoint_arn: str, message: PushMessage) -> str:
    """Publish to one device; the payload opens the appointment in the app (C4)."""
    fcm = {"notification": {"title": message.title, "body": message.body},
           "data": {**message.data, "deep_link": message.deep_link}}
    apns = {"aps": {"alert": {"title": message.title, "body": message.body},
                    "category": "APPOINTMENT_ACTIONS"},
            **message.data, "deep_link": message.deep_link}
    payload = {"default": message.body, "GCM": json.dumps(fcm), "APNS": json.dumps(apns)}
    sns = client("sns")
    try:
        response = sns.publish(TargetArn=endpoint_arn, Message=json.dumps(payload),
                               MessageStructure="json")
    except (sns.exceptions.EndpointDisabledException,
            sns.exceptions.InvalidParameterException) as exc:
        raise ChannelError(str(exc)) from exc
    return str(response["MessageId"])


def is_opted_out(phone_e164: str) -> bool:
    """B7: the provider's (account-wide) STOP list."""
    response = client("sns").check_if_phone_number_is_opted_out(phoneNumber=phone_e164)
    return bool(response["isOptedOut"])


def send_sms(phone_e164: str, text: str, sender_id: str | None = None) -> str:
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    response = client("sns").publish(PhoneNumber=phone_e164, Message=text,
                                     MessageAttributes=attributes)
    return str(response["MessageId"])


def send_email(to: str, subject: str, text: str, html: str) -> str:
    response = client("sesv2").send_email(
        FromEmailAddress=os.environ["EMAIL_FROM"],
        Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": subject, "Charset": "UTF-8"},
                            "Body": {"Text": {"Data": text, "Charset": "UTF-8"},
                                     "Html": {"Data": html, "Charset": "UTF-8"}}}},
    )
    return str(response["MessageId"])

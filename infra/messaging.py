"""Push (SNS platform applications), SMS (SNS) and email (SES): the deploy settings, the
SES configuration set that reports bounces and complaints, and sending permissions.

Every channel setting is a required parameter without a dummy default: a deploy either
names a real resource or says `none`, an explicit "no push" / "no email" mode that the
code honours (the channel is skipped with its reason). A deploy can therefore not
succeed while every send would fail.
"""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnParameter, CfnResource, Duration, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from cdk_nag import NagSuppressions
from constructs import Construct

NONE = "none"
PLATFORM_ARN = r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:app/(GCM|APNS|APNS_SANDBOX)/[A-Za-z0-9_.-]+"
EMAIL = r"[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
DOMAIN = r"([A-Za-z0-9-]+\.)+[A-Za-z]{2,}"
# {"PL": {"origination": "+48...", "sender_id": "ZDROWIE"}, ...}: see notify/settings.py.
ORIGINATIONS = r"\{.*\}"
PHONE_NUMBER_ID = r"phone-[0-9a-f]{32}"
# The paced queue's sender (D17): its timeout, the tries a queued SMS gets before its
# dead-letter queue keeps it, and at most how many copies of it read the queue (SQS event
# source mappings take 2 to 1,000).
SMS_SENDER_TIMEOUT_S = 30
SMS_SEND_ATTEMPTS = 5
SMS_SENDER_CONCURRENCY = 2


class MessagingConstruct(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, topic_key: kms.IKey, dead_letter: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        def parameter(name: str, pattern: str, description: str) -> str:
            return CfnParameter(
                stack,
                name,
                type="String",
                allowed_pattern=f"^({pattern})$",
                constraint_description=f"{description} (or '{NONE}')",
                description=description,
            ).value_as_string

        self.fcm_arn = parameter(
            "FcmPlatformApplicationArn",
            f"{PLATFORM_ARN}|{NONE}",
            "SNS platform application for Android (FCM); 'none': no Android push",
        )
        self.apns_arn = parameter(
            "ApnsPlatformApplicationArn",
            f"{PLATFORM_ARN}|{NONE}",
            "SNS platform application for iOS (APNs); 'none': no iOS push",
        )
        self.email_from = parameter(
            "EmailFrom", f"{EMAIL}|{NONE}", "Sender address of a verified SES identity; 'none': no email"
        )
        self.email_identity = parameter(
            "EmailIdentity",
            f"{DOMAIN}|{EMAIL}|{NONE}",
            "The verified SES identity (domain or address) that EmailFrom belongs to; 'none': no email",
        )
        self.sms_originations = CfnParameter(
            stack,
            "SmsOriginations",
            type="String",
            allowed_pattern=f"^{ORIGINATIONS}$",
            description="JSON: per destination country (ISO 3166 alpha-2) the origination "
            "number (E.164, or an End User Messaging phone-number/pool ARN) and "
            'sender id to send SMS from, e.g. {"PL": {"origination": '
            '"+48...", "sender_id": "ZDROWIE"}}; {} lets SNS choose.',
        ).value_as_string

        # D17: the account's SMS rate (AWS's default quota: 20 message parts a second; a
        # raised quota is set here). SMS over it wait in the paced queue for their moment.
        self.sms_rate = CfnParameter(
            stack,
            "SmsPartsPerSecond",
            type="Number",
            default=20,
            min_value=1,
            max_value=10000,
            description="The account's SMS sending rate (message parts per second, its AWS quota)",
        ).value_as_string
        # D17: the part of each rate kept for urgent SMS (escalations, notices of a change,
        # offers); routine ones (confirmations, reminders, recalls...) have the rest.
        self.sms_urgent_share = CfnParameter(
            stack,
            "SmsUrgentSharePercent",
            type="Number",
            default=30,
            min_value=10,
            max_value=90,
            description="The share of the SMS rate kept for urgent SMS (escalations, notices, offers), in percent",
        ).value_as_string
        self.paced_sms = sqs.Queue(
            self,
            "PacedSms",
            # Lambda's advice for a queue it reads: visibility at least six times the
            # function's timeout, so a message is not handed out again while in work.
            visibility_timeout=Duration.seconds(6 * SMS_SENDER_TIMEOUT_S),
            retention_period=Duration.days(4),  # its dead-letter queue keeps 14 days
            encryption=sqs.QueueEncryption.SQS_MANAGED,  # identifiers only (contracts.QueuedSms)
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=SMS_SEND_ATTEMPTS, queue=dead_letter),
        )

        def configured(name: str, value: str) -> CfnCondition:
            return CfnCondition(self, name, expression=Fn.condition_not(Fn.condition_equals(value, NONE)))

        self._push = {
            "fcm": configured("FcmConfigured", self.fcm_arn),
            "apns": configured("ApnsConfigured", self.apns_arn),
        }
        self._email = configured("EmailConfigured", self.email_identity)

        # T1, T2: texts patients send to our number. End User Messaging SMS publishes them
        # to this topic once two-way SMS is turned on for the number (below).
        self.two_way_number = parameter(
            "SmsTwoWayNumberId",
            f"{PHONE_NUMBER_ID}|{NONE}",
            "End User Messaging SMS phone number id (phone-...) whose incoming texts are answers; "
            "'none': patients cannot answer by text",
        )
        self.inbound_sms = self._service_topic("InboundSms", topic_key, "sms-voice.amazonaws.com")
        self._two_way = configured("TwoWaySmsConfigured", self.two_way_number)
        self._turn_on_two_way()

        # Bounces and complaints arrive only through a configuration set's event
        # destination: they go to this topic, whose subscriber marks the address (C5).
        self.email_events = self._service_topic("EmailEvents", topic_key, "ses.amazonaws.com")
        self.configuration_set = ses.CfnConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_options=ses.CfnConfigurationSet.ReputationOptionsProperty(reputation_metrics_enabled=True),
            sending_options=ses.CfnConfigurationSet.SendingOptionsProperty(sending_enabled=True),
        )
        ses.CfnConfigurationSetEventDestination(
            self,
            "BouncesAndComplaints",
            configuration_set_name=self.configuration_set.ref,
            event_destination=ses.CfnConfigurationSetEventDestination.EventDestinationProperty(
                enabled=True,
                matching_event_types=["bounce", "complaint", "reject"],
                sns_destination=ses.CfnConfigurationSetEventDestination.SnsDestinationProperty(
                    topic_arn=self.email_events.topic_arn
                ),
            ),
        )

    def _service_topic(self, name: str, key: kms.IKey, publisher: str) -> sns.Topic:
        """An encrypted topic an AWS service of this account publishes to (the key's
        policy lets the same services use it: keys.TOPIC_PUBLISHERS)."""
        topic = sns.Topic(self, name, enforce_ssl=True, master_key=key)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                principals=[iam.ServicePrincipal(publisher)],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        return topic

    def _turn_on_two_way(self) -> None:
        """Two-way SMS on the number, its incoming texts to our topic (a custom resource:
        the number is registered outside the stack, per country's rules)."""
        stack = Stack.of(self)
        number_arn = stack.format_arn(
            service="sms-voice", resource="phone-number", resource_name=self.two_way_number
        )
        call = cr.AwsSdkCall(
            service="PinpointSMSVoiceV2",
            action="updatePhoneNumber",
            parameters={
                "PhoneNumberId": self.two_way_number,
                "TwoWayEnabled": True,
                "TwoWayChannelArn": self.inbound_sms.topic_arn,
            },
            physical_resource_id=cr.PhysicalResourceId.of("two-way-sms"),
        )
        setting = cr.AwsCustomResource(
            self,
            "TwoWaySms",
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["sms-voice:UpdatePhoneNumber"], resources=[number_arn])]
            ),
            install_latest_aws_sdk=False,
        )
        (resource,) = [
            c
            for c in setting.node.find_all()
            if isinstance(c, CfnResource) and c.cfn_resource_type == "Custom::AWS"
        ]
        resource.cfn_options.condition = self._two_way

    def _or_placeholder(self, condition: CfnCondition, value: str, kind: str) -> str:
        """`value`, or a well-formed ARN that matches nothing when the channel is off (an
        IAM statement cannot name 'none')."""
        stack = Stack.of(self)
        placeholder = stack.format_arn(
            service=kind.split(":")[0], resource=kind.split(":")[1], resource_name="not-configured"
        )
        return Fn.condition_if(condition.logical_id, value, placeholder).to_string()

    def environment(self) -> dict[str, str]:
        return {
            "PUSH_FCM_ARN": self.fcm_arn,
            "PUSH_APNS_ARN": self.apns_arn,
            "EMAIL_FROM": self.email_from,
            "EMAIL_CONFIGURATION_SET": self.configuration_set.ref,
            **self.sms_environment(),
        }

    def sms_environment(self) -> dict[str, str]:
        return {
            "SMS_ORIGINATIONS": self.sms_originations,
            "SMS_TWO_WAY_NUMBER_ID": self.two_way_number,
            "SMS_PARTS_PER_SECOND": self.sms_rate,
            "SMS_URGENT_SHARE_PERCENT": self.sms_urgent_share,
            "SMS_QUEUE_URL": self.paced_sms.queue_url,
        }

    def allow_queueing(self, sender: lambda_.Function) -> None:
        """An SMS over the rate waits in the paced queue for its moment (D17)."""
        self.paced_sms.grant_send_messages(sender)

    def allow_paced_sending(self, sender: lambda_.Function) -> None:
        """The paced queue's sender: SMS only (no push, no email)."""
        self.paced_sms.grant_send_messages(sender)  # a wait longer than SQS holds goes back
        sender.add_event_source(
            sources.SqsEventSource(
                self.paced_sms,
                batch_size=10,
                report_batch_item_failures=True,
                max_concurrency=SMS_SENDER_CONCURRENCY,
            )
        )
        sender.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"], resources=["*"])
        )
        NagSuppressions.add_resource_suppressions(
            sender,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "SMS publish and opt-out checks have no resource ARN (AWS requires '*').",
                    "appliesTo": ["Resource::*"],
                }
            ],
            apply_to_children=True,
        )

    def allow_sending(self, sender: lambda_.Function) -> None:
        stack = Stack.of(self)
        sender.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sns:CreatePlatformEndpoint"],
                resources=[
                    self._or_placeholder(self._push["fcm"], self.fcm_arn, "sns:app/GCM"),
                    self._or_placeholder(self._push["apns"], self.apns_arn, "sns:app/APNS"),
                ],
            )
        )
        sender.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                resources=[
                    stack.format_arn(service="sns", resource="endpoint/GCM/*"),
                    stack.format_arn(service="sns", resource="endpoint/APNS/*"),
                ],
            )
        )
        # SMS to a phone number has no resource ARN: AWS requires "*" for these two.
        sender.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"], resources=["*"])
        )
        identity = Fn.condition_if(self._email.logical_id, self.email_identity, "not-configured").to_string()
        sender.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=[
                    stack.format_arn(service="ses", resource="identity", resource_name=identity),
                    stack.format_arn(
                        service="ses", resource="configuration-set", resource_name=self.configuration_set.ref
                    ),
                ],
            )
        )
        NagSuppressions.add_resource_suppressions(
            sender,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "SMS publish and opt-out checks have no resource ARN (AWS requires '*'); "
                    "push endpoints are created per device under our platform applications.",
                    "appliesTo": [
                        "Resource::*",
                        "Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:endpoint/GCM/*",
                        "Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:endpoint/APNS/*",
                    ],
                }
            ],
            apply_to_children=True,
        )

    def allow_forgetting_devices(self, grantee: lambda_.Function) -> None:
        """Delete push endpoints (P1: an erased patient's device)."""
        stack = Stack.of(self)
        grantee.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sns:DeleteEndpoint"],
                resources=[
                    stack.format_arn(service="sns", resource="endpoint/GCM/*"),
                    stack.format_arn(service="sns", resource="endpoint/APNS/*"),
                ],
            )
        )
        NagSuppressions.add_resource_suppressions(
            grantee,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Push endpoints are created per device under our platform applications.",
                    "appliesTo": [
                        "Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:endpoint/GCM/*",
                        "Resource::arn:<AWS::Partition>:sns:<AWS::Region>:<AWS::AccountId>:endpoint/APNS/*",
                    ],
                }
            ],
            apply_to_children=True,
        )

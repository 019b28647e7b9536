"""Push (SNS platform applications, as parameters), SMS (SNS) and email (SES) permissions."""

from __future__ import annotations

from aws_cdk import CfnParameter, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from cdk_nag import NagSuppressions
from constructs import Construct


class MessagingConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.fcm_arn = CfnParameter(
            stack, "FcmPlatformApplicationArn", type="String",
            default="arn:aws:sns:eu-central-1:000000000000:app/GCM/patient-notify",
            description="SNS platform application for Android (FCM)").value_as_string
        self.apns_arn = CfnParameter(
            stack, "ApnsPlatformApplicationArn", type="String",
            default="arn:aws:sns:eu-central-1:000000000000:app/APNS/patient-notify",
            description="SNS platform application for iOS (APNs)").value_as_string
        self.email_from = CfnParameter(
            stack, "EmailFrom", type="String", default="no-reply@notify.example.com",
            description="Verified SES sender address").value_as_string
        self.email_domain = CfnParameter(
            stack, "EmailDomain", type="String", default="notify.example.com",
            description="Verified SES identity (domain)").value_as_string

    def environment(self) -> dict[str, str]:
        return {"PUSH_FCM_ARN": self.fcm_arn, "PUSH_APNS_ARN": self.apns_arn,
                "EMAIL_FROM": self.email_from}

    def allow_sending(self, sender: lambda_.Function) -> None:
        stack = Stack.of(self)
        sender.add_to_role_policy(iam.PolicyStatement(
            actions=["sns:CreatePlatformEndpoint"], resources=[self.fcm_arn, self.apns_arn]))
        sender.add_to_role_policy(iam.PolicyStatement(
            actions=["sns:Publish"],
            resources=[stack.format_arn(service="sns", resource="endpoint/*")]))
        # SMS to a phone number has no resource ARN: AWS requires "*" for these two.
        sender.add_to_role_policy(iam.PolicyStatement(
            actions=["sns:Publish", "sns:CheckIfPhoneNumberIsOptedOut"], resources=["*"]))
        sender.add_to_role_policy(iam.PolicyStatement(
            actions=["ses:SendEmail"],
            resources=[stack.format_arn(service="ses", resource="identity",
                                        resource_name=self.email_domain)]))
        NagSuppressions.add_resource_suppressions(sender, [{
            "id": "AwsSolutions-IAM5",
            "reason": "SMS publish and opt-out checks have no resource ARN (AWS requires '*'); "
                      "push endpoints are created per device under our platform applications.",
        }], apply_to_children=True)

"""Customer-managed KMS keys.

- `topics`: encrypts the SNS topics that AWS services publish to (operator alarms from
  CloudWatch, SES bounce and complaint events). CloudWatch and SES can publish to an
  encrypted topic only when the key's policy lets their service principal use it; with
  the AWS-managed `alias/aws/sns` key an alarm fires and nothing arrives.
- `secrets`: seals practices' API keys and callback secrets (P3). Functions may decrypt
  only with the encryption context of their purpose: the practice API the API keys, the
  callback sender the callback secrets; nothing else may decrypt. The operator CLI
  encrypts (with the operator's credentials, not a function role).
- `links`: the HMAC key patient-link tokens are derived from (P3): GenerateMac only, the
  key never leaves KMS.
- `logs`: encrypts every log group. CloudWatch Logs encrypts with a customer key only
  when the key policy lets `logs.<region>.amazonaws.com` use it for this account's log
  groups (the encryption context names the log group).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# The AWS services that publish to our encrypted topics, and what they need of the key.
# Services that publish to our encrypted topics: alarms, SES events, inbound SMS (T1).
TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "ses.amazonaws.com", "sms-voice.amazonaws.com")
TOPIC_PUBLISHER_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


class KeysConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.topics = kms.Key(
            self,
            "TopicsKey",
            enable_key_rotation=True,
            description="SNS topics that CloudWatch alarms and SES publish to",
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.topics.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AwsServicesPublishToEncryptedTopics",
                principals=[iam.ServicePrincipal(p) for p in TOPIC_PUBLISHERS],
                actions=list(TOPIC_PUBLISHER_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.logs = kms.Key(
            self,
            "LogsKey",
            enable_key_rotation=True,
            description="CloudWatch Logs log groups of the stack",
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsOurLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.secrets = kms.Key(
            self,
            "SecretsKey",
            enable_key_rotation=True,
            description="Practice API keys and callback secrets (sealed)",
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.links = kms.Key(
            self,
            "LinkKey",
            key_spec=kms.KeySpec.HMAC_256,
            key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC,
            description="Patient-link tokens are derived from this key",
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )
        # KMS rotates symmetric encryption keys only: EnableKeyRotation refuses HMAC keys
        # (KMS API reference, EnableKeyRotation). Skipped for this one resource, with the
        # reason, instead of accepting CKV_AWS_7 for every key (docs/runbook.md, "Rotating
        # keys").
        cfn_links = self.links.node.default_child
        assert isinstance(cfn_links, kms.CfnKey)
        cfn_links.add_metadata(
            "checkov",
            {
                "skip": [
                    {
                        "id": "CKV_AWS_7",
                        "comment": "AWS KMS cannot rotate HMAC keys automatically",
                    }
                ]
            },
        )

    def allow_unsealing(self, grantee: iam.IGrantable, purpose: str) -> None:
        """Decrypt practice secrets of one purpose only (`api` or `callback`)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.secrets.key_arn],
                conditions={"StringEquals": {"kms:EncryptionContext:purpose": purpose}},
            )
        )

    def allow_link_tokens(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateMac"], resources=[self.links.key_arn])
        )

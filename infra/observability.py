"""Dead-letter queues, alarms that reach a person, and the operators' dashboard (B8, O1).

Every alarm says what broke and which entry of docs/runbook.md to open; it publishes to
a topic encrypted with a customer-managed key that CloudWatch may use, to which the
operator's address (a required deploy parameter) is subscribed.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, CfnParameter, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from cdk_nag import NagSuppressions
from constructs import Construct

from notify.dal.outcomes import FEATURES as OUTCOME_FEATURES

NAMESPACE = "PatientNotify"
SERVICE_DIMENSION = {"service": "patient-notify"}
RUNBOOK = "docs/runbook.md"


class DeadLettersConstruct(Construct):
    """Where work that failed its bounded retries waits to be redriven."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        for name in ("StreamFailures", "ScheduleFailures", "SendFailures", "SmsFailures"):
            queue = sqs.Queue(
                self,
                name,
                retention_period=Duration.days(14),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            NagSuppressions.add_resource_suppressions(
                queue,
                [
                    {
                        "id": "AwsSolutions-SQS3",
                        "reason": "This queue is itself a dead-letter queue; redrive is by command.",
                    }
                ],
            )
            self.queues[name] = queue

    @property
    def stream(self) -> sqs.Queue:
        return self.queues["StreamFailures"]

    @property
    def schedules(self) -> sqs.Queue:
        return self.queues["ScheduleFailures"]

    @property
    def sends(self) -> sqs.Queue:
        return self.queues["SendFailures"]

    @property
    def paced_sms(self) -> sqs.Queue:
        """SMS of the paced queue that failed their tries (D17); redriven into it."""
        return self.queues["SmsFailures"]


@dataclass(frozen=True)
class Watched:
    """What the alarms look at."""

    dead_letters: DeadLettersConstruct
    functions: dict[str, lambda_.Function]
    stream_consumers: tuple[str, ...]
    state_machine: sfn.StateMachine
    table: dynamodb.ITable
    api_name: str
    api_stage: str
    schedule_group: str
    paced_sms: sqs.IQueue  # SMS waiting for their moment (D17)


def custom_metric(name: str, statistic: str = "Sum", minutes: int = 5) -> cloudwatch.Metric:
    """One of our EMF metrics (powertools: namespace PatientNotify, dimension service)."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=SERVICE_DIMENSION,
        statistic=statistic,
        period=Duration.minutes(minutes),
    )


class ObservabilityConstruct(Construct):
    """Alarms (each with its runbook entry), the topic that reaches the operator, the SMS
    delivery-status log, and a dashboard that shows every alarm's metric."""

    def __init__(
        self, scope: Construct, construct_id: str, *, watched: Watched, topic_key: kms.IKey, logs_key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        operator = CfnParameter(
            stack,
            "OperatorEmail",
            type="String",
            allowed_pattern=r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
            description="Who receives the alarms (subscribe more, e.g. a pager, to the AlarmTopicArn output)",
        ).value_as_string
        spend_limit = CfnParameter(
            stack,
            "SmsMonthlySpendLimitUsd",
            type="Number",
            default=1,
            min_value=1,
            description="The account's SMS spend limit (AWS starts every account at USD 1; "
            "raise it by a quota request first): the alarm fires at 80%",
        )
        self.topic = sns.Topic(self, "OperatorAlerts", enforce_ssl=True, master_key=topic_key)
        self.topic.add_subscription(subscriptions.EmailSubscription(operator))
        CfnOutput(
            stack,
            "AlarmTopicArn",
            value=self.topic.topic_arn,
            description="Operator alarms: add subscriptions (pager, chat) here",
        )
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        self._rows: list[list[cloudwatch.IWidget]] = []

        w = watched
        for name, queue in w.dead_letters.queues.items():
            self.alarm(
                f"{name}Waiting",
                queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
                "dead-letters",
                f"Work failed its retries and waits in the {name} dead-letter queue.",
            )
        for name, function in w.functions.items():
            self.alarm(
                f"{name}Errors",
                function.metric_errors(period=Duration.minutes(5)),
                "function-errors",
                f"The {name} function failed invocations.",
            )
            self.alarm(
                f"{name}Throttles",
                function.metric_throttles(period=Duration.minutes(5)),
                "function-throttles",
                f"Lambda throttled {name} (account concurrency exhausted).",
            )
        for name in w.stream_consumers:
            self.alarm(
                f"{name}IteratorAge",
                w.functions[name].metric("IteratorAge", statistic="Maximum", period=Duration.minutes(5)),
                "stream-iterator-age",
                f"{name} is more than a minute behind the table stream: messages are planned late.",
                threshold=60_000,
            )
        self.alarm(
            "SmsBacklog",
            w.paced_sms.metric_approximate_age_of_oldest_message(statistic="Maximum", period=Duration.minutes(5)),
            "sms-backlog",
            "An SMS has waited over 15 minutes in the paced queue: SMS are due faster than "
            "the account's SMS rate lets them leave.",
            threshold=900,
        )
        self.alarm(
            "SmsThrottled",
            custom_metric("SmsThrottled"),
            "sms-backlog",
            "SNS throttled SMS the stack had paced: SmsPartsPerSecond is above the account's quota.",
        )
        self.alarm(
            "EscalationsFailed",
            w.state_machine.metric_failed(period=Duration.minutes(5)),
            "failed-escalations",
            "An escalation execution failed: its SMS was not sent.",
        )
        api_dimensions = {"ApiName": w.api_name, "Stage": w.api_stage}
        self.alarm(
            "ApiServerErrors",
            cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name="5XXError",
                dimensions_map=api_dimensions,
                statistic="Sum",
                period=Duration.minutes(5),
            ),
            "api-5xx",
            "The API answered 5xx: practices' events or patients' taps failed.",
        )
        self.alarm(
            "UnsignedRequestBurst",
            custom_metric("RequestsRejected"),
            "unsigned-requests",
            "More than 50 practice requests in 5 minutes failed the signature check: "
            "a practice's key is wrong, or someone is probing.",
            threshold=50,
        )
        self.alarm(
            "SmsDeliveryFailures",
            self._sms_delivery_log(logs_key),
            "sms-delivery-failures",
            "SMS the carrier could not deliver (SNS delivery status log).",
            threshold=5,
        )
        self.alarm(
            "EmailBouncesAndComplaints",
            cloudwatch.MathExpression(
                expression="bounced + complained",
                using_metrics={
                    "bounced": custom_metric("EmailBounced"),
                    "complained": custom_metric("EmailComplained"),
                },
                period=Duration.minutes(15),
            ),
            "email-bounces",
            "Emails bounced or were reported as spam (SES configuration set events); the "
            "addresses are marked invalid.",
            threshold=5,
        )
        self.alarm(
            "EmailSendFailures",
            custom_metric("SendFailed_email"),
            "email-bounces",
            "SES refused emails (sandbox, unverified identity, or quota).",
        )
        self.alarm(
            "SmsSpendNearLimit",
            cloudwatch.MathExpression(
                expression=f"100 * spent / {spend_limit.value_as_string}",
                using_metrics={
                    "spent": cloudwatch.Metric(
                        namespace="AWS/SNS", metric_name="SMSMonthToDateSpentUSD", statistic="Maximum"
                    )
                },
                period=Duration.minutes(15),
            ),
            "sms-spend",
            "SMS spend this month passed 80% of the account's SMS spend limit: at the limit "
            "SNS stops sending every SMS.",
            threshold=80,
        )
        self.alarm(
            "TableThrottled",
            cloudwatch.MathExpression(
                expression="reads + writes",
                using_metrics={
                    "reads": w.table.metric("ReadThrottleEvents", statistic="Sum"),
                    "writes": w.table.metric("WriteThrottleEvents", statistic="Sum"),
                },
                period=Duration.minutes(5),
            ),
            "dynamodb-throttling",
            "DynamoDB throttled the table.",
        )
        scheduler = {"ScheduleGroup": w.schedule_group}
        self.alarm(
            "SchedulerThrottled",
            cloudwatch.MathExpression(
                expression="throttled + target",
                using_metrics={
                    "throttled": cloudwatch.Metric(
                        namespace="AWS/Scheduler",
                        metric_name="InvocationThrottleCount",
                        dimensions_map=scheduler,
                        statistic="Sum",
                    ),
                    "target": cloudwatch.Metric(
                        namespace="AWS/Scheduler",
                        metric_name="TargetErrorThrottledCount",
                        dimensions_map=scheduler,
                        statistic="Sum",
                    ),
                },
                period=Duration.minutes(5),
            ),
            "scheduler-throttling",
            "EventBridge Scheduler invocations were throttled: messages go out late.",
        )
        self.alarm(
            "SchedulerDropped",
            cloudwatch.Metric(
                namespace="AWS/Scheduler",
                metric_name="InvocationDroppedCount",
                dimensions_map=scheduler,
                statistic="Sum",
                period=Duration.minutes(5),
            ),
            "scheduler-throttling",
            "EventBridge Scheduler dropped invocations after their retries (see the ScheduleFailures queue).",
        )
        self.alarm(
            "PracticesAtSmsQuota",
            custom_metric("SmsQuotaReached"),
            "sms-quota",
            "A practice reached its monthly SMS quota: its SMS fall back to push / email or are skipped.",
        )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard")
        sent = [custom_metric(f"Sent_{channel}") for channel in ("push", "sms", "email")]
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Messages sent by channel", left=sent, width=12),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=12),
        )
        # A1 across practices (totals: a per-practice dimension would be a custom metric per
        # practice; the practice API has the per-practice, per-calendar figures).
        hourly = [custom_metric(f"Outcome_{feature}", minutes=60) for feature in OUTCOME_FEATURES]
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Outcomes across practices, per hour (A1)", left=hourly, width=24)
        )
        for index in range(0, len(self.alarms), 4):
            self.dashboard.add_widgets(
                *(
                    cloudwatch.AlarmWidget(alarm=a, title=a.node.id, width=6)
                    for a in self.alarms[index : index + 4]
                )
            )

    def alarm(self, name: str, metric: cloudwatch.IMetric, runbook: str, what: str, threshold: float = 0) -> None:
        """An alarm on `metric` above `threshold`, saying `what` broke and where in the
        runbook to look."""
        created = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            alarm_description=f"{what} Runbook: {RUNBOOK}#{runbook}",
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        created.add_alarm_action(self._action)
        self.alarms.append(created)

    def _sms_delivery_log(self, logs_key: kms.IKey) -> cloudwatch.IMetric:
        """SNS writes a log line per failed SMS delivery once the account's SMS delivery
        status logging has a role (an account-level SNS attribute, set here); a metric
        filter counts them."""
        stack = Stack.of(self)
        log_group = logs.LogGroup(
            self,
            "SmsDeliveryFailureLog",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=logs_key,
            log_group_name=f"sns/{stack.region}/{stack.account}/DirectPublishToPhoneNumber/Failure",
        )
        role = iam.Role(self, "SmsDeliveryLogRole", assumed_by=iam.ServicePrincipal("sns.amazonaws.com"))
        log_group.grant_write(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"], resources=[log_group.log_group_arn]
            )
        )
        setting = cr.AwsCustomResource(
            self,
            "SmsDeliveryStatusLogging",
            on_update=cr.AwsSdkCall(
                service="SNS",
                action="setSMSAttributes",
                parameters={
                    "attributes": {
                        "DeliveryStatusIAMRole": role.role_arn,
                        "DeliveryStatusSuccessSamplingRate": "0",
                    }
                },
                physical_resource_id=cr.PhysicalResourceId.of("sms-delivery-status-logging"),
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(actions=["sns:SetSMSAttributes"], resources=["*"]),
                    iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn]),
                ]
            ),
            install_latest_aws_sdk=False,
        )
        setting.node.add_dependency(log_group)
        NagSuppressions.add_resource_suppressions(
            setting,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "SetSMSAttributes is an account-level SNS setting without a resource ARN.",
                    "appliesTo": ["Resource::*"],
                }
            ],
            apply_to_children=True,
        )
        NagSuppressions.add_resource_suppressions(
            role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "SNS writes one log stream per delivery into this one log group.",
                    "appliesTo": [
                        {"regex": "/^Resource::<ObservabilitySmsDeliveryFailureLog[0-9A-F]+\\.Arn>:\\*$/g"}
                    ],
                }
            ],
            apply_to_children=True,
        )
        metric = logs.MetricFilter(
            self,
            "SmsDeliveryFailureCount",
            log_group=log_group,
            metric_namespace=NAMESPACE,
            metric_name="SmsDeliveryFailures",
            metric_value="1",
            filter_pattern=logs.FilterPattern.string_value("$.status", "=", "FAILURE"),
        )
        return metric.metric(statistic="Sum", period=Duration.minutes(15))

"""Dead-letter queues, alarms and the operators' dashboard (B8)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagSuppressions
from constructs import Construct


class DeadLettersConstruct(Construct):
    """Where work that failed its bounded retries waits to be redriven."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        for name in ("StreamFailures", "ScheduleFailures", "SendFailures"):
            queue = sqs.Queue(self, name, retention_period=Duration.days(14),
                              encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
            NagSuppressions.add_resource_suppressions(queue, [{
                "id": "AwsSolutions-SQS3",
                "reason": "This queue is itself a dead-letter queue; redrive is by command.",
            }])
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


class ObservabilityConstruct(Construct):
    """Alarms on DLQ depth, function errors and throttles, failed escalations; a dashboard."""

    def __init__(self, scope: Construct, construct_id: str, *, dead_letters: DeadLettersConstruct,
                 functions: dict[str, lambda_.Function], state_machine: sfn.StateMachine) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "OperatorAlerts", enforce_ssl=True,
                               master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"))
        alarm_action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        def alarm(name: str, metric: cloudwatch.IMetric, threshold: float = 0) -> None:
            created = cloudwatch.Alarm(
                self, name, metric=metric, threshold=threshold, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
            created.add_alarm_action(alarm_action)
            self.alarms.append(created)

        for name, queue in dead_letters.queues.items():
            alarm(f"{name}Waiting", queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)))
        for name, function in functions.items():
            alarm(f"{name}Errors", function.metric_errors(period=Duration.minutes(5)))
            alarm(f"{name}Throttles", function.metric_throttles(period=Duration.minutes(5)))
        alarm("EscalationsFailed", state_machine.metric_failed(period=Duration.minutes(5)))

        sent = [cloudwatch.Metric(namespace="PatientNotify", metric_name=f"Sent_{channel}",
                                  dimensions_map={"service": "patient-notify"},
                                  statistic="Sum", period=Duration.minutes(5))
                for channel in ("push", "sms", "email")]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Messages sent by channel", left=sent),
            cloudwatch.GraphWidget(title="Function errors",
                                   left=[f.metric_errors() for f in functions.values()]),
            cloudwatch.GraphWidget(title="Dead-letter queues", left=[
                q.metric_approximate_number_of_messages_visible()
                for q in dead_letters.queues.values()]),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms),
        )

"""The escalation state machine: wait until the escalation time, read the appointment
(or recall, K3), stop if the patient answered (or viewed the recall), else run
sms_fallback (C1). sms_fallback checks again (version, R9 switch, opened notice) before
it sends; C2 is decided before starting."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from cdk_nag import NagSuppressions
from constructs import Construct

from notify.dal.keys import Prefix
from notify.dal.models import AppointmentItem
from notify.domain.model import ANSWERED_APPOINTMENT, ANSWERED_RECALL

# Appointment and recall statuses in which the patient answered: no SMS (C1, K3).
ANSWERED = sorted(s.value for s in ANSWERED_APPOINTMENT | ANSWERED_RECALL)
REQUESTED = AppointmentItem.reschedule_requested_at.attr_name


class EscalationConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        sms_fallback: lambda_.IFunction,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        wait = sfn.Wait(self, "WaitUntilEscalation", time=sfn.WaitTime.timestamp_path("$.escalate_at"))
        read = tasks.DynamoGetItem(
            self,
            "ReadAppointment",
            table=table,
            consistent_read=True,
            key={
                "pk": tasks.DynamoAttributeValue.from_string(
                    sfn.JsonPath.format(Prefix.PRACTICE.value + "{}", sfn.JsonPath.string_at("$.practice_id"))
                ),
                "sk": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.record_key")),
            },
            result_path="$.current",
        )
        read.add_retry(errors=["States.ALL"], max_attempts=3, interval=Duration.seconds(2))
        send_sms = tasks.LambdaInvoke(
            self,
            "SendFallbackSms",
            lambda_function=sms_fallback,
            # The request send_push started the execution with (appointment or recall);
            # the state read above stays out of the payload.
            payload=sfn.TaskInput.from_object({"request": sfn.JsonPath.object_at("$.request")}),
            payload_response_only=True,
            retry_on_service_exceptions=True,
            result_path="$.fallback",
        )
        send_sms.add_retry(errors=["States.ALL"], max_attempts=3, interval=Duration.seconds(5), backoff_rate=2)
        answered = sfn.Condition.or_(
            *(sfn.Condition.string_equals("$.current.Item.status.S", s) for s in ANSWERED),
            # The patient asked the practice for another time (D22): answered too.
            sfn.Condition.is_present(f"$.current.Item.{REQUESTED}"),
        )
        decide = (
            sfn.Choice(self, "PatientAnswered")
            .when(sfn.Condition.is_not_present("$.current.Item"), sfn.Succeed(self, "AppointmentGone"))
            .when(answered, sfn.Succeed(self, "NoSmsNeeded"))
            .otherwise(send_sms)
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            encryption_key=logs_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(wait.next(read).next(decide)),
            tracing_enabled=True,
            timeout=Duration.days(8),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        NagSuppressions.add_resource_suppressions(
            self.state_machine,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "CDK's LambdaInvoke grant covers the function's versions (':*'); X-Ray "
                    "segments and Step Functions' vended log delivery have no resource ARN.",
                    "appliesTo": [
                        "Resource::*",
                        {"regex": "/^Resource::<Functionssmsfallback[0-9A-F]{8}\\.Arn>:\\*$/g"},
                    ],
                }
            ],
            apply_to_children=True,
        )

    def allow_stopping(self, grantee: iam.IGrantable) -> None:
        """Stop this machine's executions (P1: an erased patient's escalations)."""
        stack = Stack.of(self)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["states:StopExecution"],
                resources=[
                    stack.format_arn(
                        service="states",
                        resource="execution",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        resource_name=f"{self.state_machine.state_machine_name}:*",
                    )
                ],
            )
        )
        NagSuppressions.add_resource_suppressions(
            grantee,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Executions are named per message; the wildcard stays inside this state "
                    "machine's executions.",
                    "appliesTo": [{"regex": "/^Resource::arn:<AWS::Partition>:states:.*:execution:.*/g"}],
                }
            ],
            apply_to_children=True,
        )

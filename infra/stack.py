r"""The whole product in one stack, composed of one construct per concern.

    booking_webhook -> table -(stream)-> schedule_reminder -(schedules)-> send_push
                        |                       \-(daily schedule)-> recall_sweep -> send_push
    patient_links  ->   |    -(stream)-> slot_released -> offers     send_push -> escalation
                        |    -(stream)-> practice_callback             -> sms_fallback
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.api import ApiConstruct
from infra.data import DataConstruct
from infra.escalation import EscalationConstruct
from infra.function_factory import FunctionFactoryConstruct
from infra.messaging import MessagingConstruct
from infra.observability import DeadLettersConstruct, ObservabilityConstruct
from infra.scheduling import SchedulingConstruct

# The stream carries every write; each consumer takes only its own items.
APPOINTMENT_RECORDS = {"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "APPT#"}]}}}}
# A manual recall (K4, K5) the practice API wrote: schedule_reminder hands it to send_push
# (the API cannot call send_push itself: send_push's links point at the API).
MANUAL_RECALL_RECORDS = {"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "RECALL#"}]}},
                                      "NewImage": {"source": {"S": ["manual"]}}},
                         "eventName": ["INSERT", "MODIFY"]}
PRACTICE_RECORDS = {"dynamodb": {"Keys": {"sk": {"S": ["PROFILE"]}}},
                    "eventName": ["INSERT", "MODIFY"]}
CALLBACK_RECORDS = {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "CALLBACK#"}]}}},
                    "eventName": ["INSERT"]}


class NotificationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        data = DataConstruct(self, "Data")
        table = data.table
        dead_letters = DeadLettersConstruct(self, "DeadLetters")
        factory = FunctionFactoryConstruct(self, "Functions")
        messaging = MessagingConstruct(self, "Messaging")
        table_env = {"TABLE_NAME": table.table_name}

        # API: practice webhook and patient links.
        webhook = factory.create("booking_webhook", table_env)
        links = factory.create("patient_links", table_env)
        table.grant_read_write_data(webhook)
        table.grant_read_write_data(links)
        api = ApiConstruct(self, "Api", webhook=webhook, links=links)
        public_url = api.api.url

        # Sending: escalation SMS, then send_push which starts escalations.
        sender_env = {**table_env, **messaging.environment(), "PUBLIC_BASE_URL": public_url}
        sms_fallback = factory.create("sms_fallback", sender_env)
        escalation = EscalationConstruct(self, "Escalation", table=table,
                                         sms_fallback=sms_fallback)
        send_push = factory.create("send_push", {
            **sender_env,
            "ESCALATION_STATE_MACHINE_ARN": escalation.state_machine.state_machine_arn,
        })
        send_push.configure_async_invoke(
            retry_attempts=2, max_event_age=Duration.hours(1),
            on_failure=destinations.SqsDestination(dead_letters.sends))
        escalation.state_machine.grant_start_execution(send_push)
        for sender in (send_push, sms_fallback):
            table.grant_read_write_data(sender)
            messaging.allow_sending(sender)
        # Recalls (K1): each practice's daily schedule fires recall_sweep.
        recall_sweep = factory.create("recall_sweep", {
            **table_env, "SEND_FUNCTION_ARN": send_push.function_arn})
        table.grant_read_write_data(recall_sweep)
        send_push.grant_invoke(recall_sweep)

        # Planning: stream -> schedules that fire send_push.
        scheduling = SchedulingConstruct(self, "Scheduling", dead_letters=dead_letters.schedules)
        scheduling.allow_target(send_push)
        scheduling.allow_target(recall_sweep)
        planner_env = {
            **table_env,
            "SCHEDULE_GROUP": scheduling.group.schedule_group_name,
            "SEND_FUNCTION_ARN": send_push.function_arn,
            "SCHEDULER_ROLE_ARN": scheduling.role.role_arn,
            "SCHEDULER_DLQ_ARN": dead_letters.schedules.queue_arn,
        }
        # schedule_reminder plans messages, recall periods and each practice's daily
        # recall schedule; slot_released offers freed slots (F1-F3).
        planners = {
            "schedule_reminder": ({"RECALL_FUNCTION_ARN": recall_sweep.function_arn},
                                  [APPOINTMENT_RECORDS, PRACTICE_RECORDS, MANUAL_RECALL_RECORDS]),
            "slot_released": ({}, [APPOINTMENT_RECORDS]),
        }
        for name, (extra_env, patterns) in planners.items():
            planner = factory.create(name, {**planner_env, **extra_env})
            table.grant_read_write_data(planner)
            scheduling.allow_planner(planner)
            send_push.grant_invoke(planner)
            self._consume_stream(planner, table, dead_letters, *patterns)

        # Practice callbacks (B6): written with their cause, delivered from the stream.
        callbacks = factory.create("practice_callback", table_env)
        table.grant_read_data(callbacks)
        self._consume_stream(callbacks, table, dead_letters, CALLBACK_RECORDS)

        self.table = table
        self.functions = factory.functions
        self.state_machine = escalation.state_machine
        self.api = api.api
        self.observability = ObservabilityConstruct(
            self, "Observability", dead_letters=dead_letters, functions=factory.functions,
            state_machine=escalation.state_machine)

        self._suppress()

    @staticmethod
    def _consume_stream(function: lambda_.Function, table, dead_letters: DeadLettersConstruct,
                        *patterns: dict) -> None:
        """Bounded retries, partial batch responses, bisect, DLQ (B8), filtered records."""
        function.add_event_source(sources.DynamoEventSource(
            table,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=25,
            bisect_batch_on_error=True,
            retry_attempts=3,
            max_record_age=Duration.hours(1),
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(dead_letters.stream),
            filters=[lambda_.FilterCriteria.filter(p) for p in patterns],
        ))

    def _suppress(self) -> None:
        NagSuppressions.add_stack_suppressions(self, [
            {"id": "AwsSolutions-IAM4", "reason": "Lambda's AWSLambdaBasicExecutionRole is "
             "the AWS-managed minimum for writing its own logs.",
             "appliesTo": ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                           "AWSLambdaBasicExecutionRole"]},
            {"id": "AwsSolutions-IAM5", "reason": "Generated by grant_* helpers: X-Ray "
             "segments have no resource ARN, table grants include the table's own indexes "
             "(index/*), and Lambda invoke grants include the function's versions (':*')."},
        ])

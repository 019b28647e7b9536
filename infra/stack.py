r"""The whole product in one stack, composed of one construct per concern.

    booking_webhook -> table -(stream)-> schedule_reminder -(schedules)-> send_push
    patient_links  ->   |      (plans messages, recall periods   \-(daily)-> recall_sweep
                        |       and freed-slot offers)              send_push -> escalation
                        |    -(stream)-> practice_callback                -> sms_fallback
                        send_push / sms_fallback -(paced SMS queue)-> sms_sender
                        sms_sender -(an SMS that did not leave: its email)-> send_push
    SES bounces / complaints -(SNS)-> delivery_events

The table stream has two readers: DynamoDB Streams throttles more than two processes
reading one shard. Planning and freed-slot offers share the first (both are idempotent
plans of the same appointment change); practice callbacks have the second to
themselves, so a practice endpoint that is down never holds up anybody's reminders.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.api import ApiConstruct
from infra.data import DataConstruct
from infra.escalation import EscalationConstruct
from infra.function_factory import FunctionFactoryConstruct
from infra.keys import KeysConstruct
from infra.messaging import SMS_SENDER_TIMEOUT_S, MessagingConstruct
from infra.observability import DeadLettersConstruct, ObservabilityConstruct, Watched
from infra.scheduling import SchedulingConstruct
from notify.dal.keys import Prefix

# The stream carries every write; each reader takes only its own items (key shapes from
# the layer's one module of them).
APPOINTMENT_RECORDS = {"dynamodb": {"Keys": {"sk": {"S": [{"prefix": Prefix.APPOINTMENT.value}]}}}}
# A manual recall (K4, K5) the practice API wrote: schedule_reminder hands it to send_push
# (the API cannot call send_push itself: send_push's links point at the API).
MANUAL_RECALL_RECORDS = {
    "dynamodb": {
        "Keys": {"sk": {"S": [{"prefix": Prefix.RECALL.value}]}},
        "NewImage": {"source": {"S": ["manual"]}},
    },
    "eventName": ["INSERT", "MODIFY"],
}
PRACTICE_RECORDS = {"dynamodb": {"Keys": {"sk": {"S": [Prefix.PROFILE.value]}}}, "eventName": ["INSERT", "MODIFY"]}
ERASURE_RECORDS = {
    "dynamodb": {"Keys": {"pk": {"S": [{"prefix": Prefix.ERASURE.value}]}}},
    "eventName": ["INSERT"],
}
CALLBACK_RECORDS = {
    "dynamodb": {"Keys": {"pk": {"S": [{"prefix": Prefix.CALLBACK.value}]}}},
    "eventName": ["INSERT"],
}

# The item operations each function's code calls (infra/data.py): nothing scans, deletes
# or batch-writes. BatchGetItem: the items an invocation needs, read together
# (notify/dal/read_cache.py).
READ_WRITE = ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "Query")
TABLE_ACCESS = {
    # Creating an appointment consumes the changes held for it (B9): a delete, or a
    # condition check that none were held, in the creation's transaction.
    "booking_webhook": (*READ_WRITE, "DeleteItem", "ConditionCheckItem"),
    # Erasure (P1) removes a patient's items, and a practice's when it leaves (D19).
    "schedule_reminder": (*READ_WRITE, "DeleteItem"),
    "patient_links": READ_WRITE,
    "send_push": READ_WRITE,
    "sms_fallback": READ_WRITE,
    "recall_sweep": ("PutItem", "UpdateItem", "Query"),
    "practice_callback": ("GetItem", "BatchGetItem"),
    "delivery_events": ("UpdateItem",),
    "sms_replies": (*READ_WRITE, "ConditionCheckItem"),
    # Query: a grouped reminder written again finds the rows it no longer covers (R11).
    "sms_sender": READ_WRITE,
}
# Lambda's default quota of filters on one event source mapping (more only on request).
MAX_STREAM_FILTERS = 5
# Functions invoked asynchronously (async invoke, Scheduler, SNS): each has bounded
# retries and an on-failure destination.
ASYNC_RETRIES = 2


class NotificationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        data = DataConstruct(self, "Data")
        table = data.table
        keys = KeysConstruct(self, "Keys")
        dead_letters = DeadLettersConstruct(self, "DeadLetters")
        factory = FunctionFactoryConstruct(self, "Functions", logs_key=keys.logs)
        messaging = MessagingConstruct(
            self, "Messaging", topic_key=keys.topics, dead_letter=dead_letters.paced_sms
        )
        table_env = {"TABLE_NAME": table.table_name}

        def function(name: str, environment: dict[str, str], **options: int) -> lambda_.Function:
            created = factory.create(name, environment, **options)
            data.grant(created, *TABLE_ACCESS[name])
            return created

        def asynchronous(target: lambda_.Function, queue: sqs.IQueue) -> None:
            target.configure_async_invoke(
                retry_attempts=ASYNC_RETRIES,
                max_event_age=Duration.hours(1),
                on_failure=destinations.SqsDestination(queue),
            )

        link_key_env = {"LINK_KEY_ARN": keys.links.key_arn}
        secrets_env = {"SECRETS_KEY_ARN": keys.secrets.key_arn}

        # API: practice webhook and patient links.
        webhook = function("booking_webhook", {**table_env, **link_key_env, **secrets_env})
        keys.allow_unsealing(webhook, "api")
        keys.allow_link_tokens(webhook)
        links = function("patient_links", {**table_env, **link_key_env})
        keys.allow_link_tokens(links)
        api = ApiConstruct(self, "Api", webhook=webhook, links=links, logs_key=keys.logs)
        public_url = api.url

        # Sending: escalation SMS, then send_push which starts escalations.
        sender_env = {**table_env, **link_key_env, **messaging.environment(), "PUBLIC_BASE_URL": public_url}
        sms_fallback = function("sms_fallback", sender_env)
        escalation = EscalationConstruct(
            self, "Escalation", table=table, sms_fallback=sms_fallback, logs_key=keys.logs
        )
        send_push = function(
            "send_push",
            {
                **sender_env,
                "ESCALATION_STATE_MACHINE_ARN": escalation.state_machine.state_machine_arn,
            },
        )
        asynchronous(send_push, dead_letters.sends)
        escalation.state_machine.grant_start_execution(send_push)
        for sender in (send_push, sms_fallback):
            messaging.allow_sending(sender)
            messaging.allow_queueing(sender)
            keys.allow_link_tokens(sender)
        # SMS over the account's rate wait in the paced queue for their moment (D17).
        # It writes a day's grouped reminder again when some of its appointments changed
        # while it waited (R11): patient links, hence the link key and the public URL.
        # An SMS that does not leave (C7's quota, a STOP) has send_push send its email.
        sms_sender = function(
            "sms_sender",
            {
                **table_env,
                **link_key_env,
                **messaging.sms_environment(),
                "PUBLIC_BASE_URL": public_url,
                "SEND_FUNCTION_ARN": send_push.function_arn,
            },
            timeout_s=SMS_SENDER_TIMEOUT_S,
        )
        messaging.allow_paced_sending(sms_sender)
        keys.allow_link_tokens(sms_sender)
        factory.allow_invoke(send_push, sms_sender)
        # Recalls (K1): each practice's daily schedule fires recall_sweep.
        recall_sweep = function("recall_sweep", {**table_env, "SEND_FUNCTION_ARN": send_push.function_arn})
        asynchronous(recall_sweep, dead_letters.sends)
        factory.allow_invoke(send_push, recall_sweep)

        # Planning: stream -> schedules that fire send_push, and freed-slot offers.
        scheduling = SchedulingConstruct(self, "Scheduling", dead_letters=dead_letters.schedules)
        scheduling.allow_target(send_push)
        scheduling.allow_target(recall_sweep)
        planner = function(
            "schedule_reminder",
            {
                **table_env,
                "SCHEDULE_GROUP": scheduling.group_name,
                "SEND_FUNCTION_ARN": send_push.function_arn,
                "SCHEDULER_ROLE_ARN": scheduling.role.role_arn,
                "SCHEDULER_DLQ_ARN": dead_letters.schedules.queue_arn,
                "RECALL_FUNCTION_ARN": recall_sweep.function_arn,
                "ESCALATION_STATE_MACHINE_ARN": escalation.state_machine.state_machine_arn,
                **link_key_env,
            },
        )
        scheduling.allow_planner(planner)
        keys.allow_link_tokens(planner)
        # Erasure (P1) stops the patient's escalations and forgets their devices.
        escalation.allow_stopping(planner)
        messaging.allow_forgetting_devices(planner)
        # Its settle schedules (B9) fire the planner itself.
        scheduling.allow_target(planner)
        asynchronous(planner, dead_letters.schedules)
        factory.allow_invoke(send_push, planner)
        self._consume_stream(
            planner,
            table,
            dead_letters,
            APPOINTMENT_RECORDS,
            PRACTICE_RECORDS,
            MANUAL_RECALL_RECORDS,
            ERASURE_RECORDS,
        )

        # Practice callbacks (B6): written with their cause, delivered from the stream.
        callbacks = function("practice_callback", {**table_env, **secrets_env})
        keys.allow_unsealing(callbacks, "callback")
        self._consume_stream(callbacks, table, dead_letters, CALLBACK_RECORDS)

        # Patients' texts (T1, T2): answered by sms_replies, which acts as the link page.
        sms_replies = function("sms_replies", sender_env)
        asynchronous(sms_replies, dead_letters.sends)
        messaging.allow_sending(sms_replies)
        keys.allow_link_tokens(sms_replies)
        messaging.inbound_sms.add_subscription(subscriptions.LambdaSubscription(sms_replies))

        # SES bounces and complaints mark the address invalid (C5).
        delivery_events = function("delivery_events", table_env)
        asynchronous(delivery_events, dead_letters.sends)
        messaging.email_events.add_subscription(subscriptions.LambdaSubscription(delivery_events))

        self.table = table
        self.functions = factory.functions
        self.state_machine = escalation.state_machine
        self.api = api.api
        self.observability = ObservabilityConstruct(
            self,
            "Observability",
            topic_key=keys.topics,
            logs_key=keys.logs,
            watched=Watched(
                dead_letters=dead_letters,
                functions=factory.functions,
                stream_consumers=("schedule_reminder", "practice_callback"),
                state_machine=escalation.state_machine,
                table=table,
                api_name=api.api.rest_api_name,
                api_stage=api.stage.stage_name,
                schedule_group=scheduling.group_name,
                paced_sms=messaging.paced_sms,
            ),
        )

        CfnOutput(
            self,
            "ApiUrl",
            value=public_url,
            description="Base URL: practices POST to <ApiUrl>practices/<id>/events",
        )
        self._suppress_managed_policies()

    @staticmethod
    def _consume_stream(
        function: lambda_.Function, table, dead_letters: DeadLettersConstruct, *patterns: dict
    ) -> None:
        """Bounded retries, partial batch responses, bisect, DLQ (B8), filtered records.

        Lambda accepts at most MAX_STREAM_FILTERS filters per event source mapping.
        """
        assert len(patterns) <= MAX_STREAM_FILTERS, "Lambda refuses more filters per mapping"
        function.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                bisect_batch_on_error=True,
                retry_attempts=3,
                max_record_age=Duration.hours(1),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(dead_letters.stream),
                filters=[lambda_.FilterCriteria.filter(p) for p in patterns],
            )
        )

    def _suppress_managed_policies(self) -> None:
        NagSuppressions.add_stack_suppressions(
            self,
            [
                {
                    "id": "AwsSolutions-IAM4",
                    "reason": "Lambda's AWSLambdaBasicExecutionRole is "
                    "the AWS-managed minimum for writing its own logs.",
                    "appliesTo": [
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
                    ],
                },
            ],
        )

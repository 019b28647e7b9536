"""Creates the synthesised template's resources in moto.

Reading `cdk.out` and creating each resource with boto3 is more faithful than moto's
CloudFormation (which drops TTL, layers, schedule groups and API stages): the table,
queues, schedule group, functions, state machine, stream mappings and API routes are
exactly the ones CDK would deploy, so local and AWS cannot drift.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from .template import Resolver, Template

ACCOUNT = "123456789012"
REGION = "eu-central-1"
STACK = "PatientNotify"
# What `cdk deploy --parameters ...` gives on AWS (the template has no dummy defaults).
# The platform applications are created here and filled in by the deploy.
# Local-only additions to a function's environment: the test practices' callback
# endpoints listen on http://127.0.0.1 (on AWS only public https is ever called, P6).
LOCAL_ENVIRONMENT = {"practice_callback": {"LOCAL_LOOPBACK_CALLBACKS": "true"}}
LOCAL_PARAMETERS = {
    "EmailFrom": "no-reply@notify.example.com",
    "EmailIdentity": "notify.example.com",
    "OperatorEmail": "operator@notify.example.com",
    "SmsOriginations": json.dumps({"PL": {"origination": "+48732000000"}, "FR": {"sender_id": "NOTIFY"}}),
    # Two-way SMS for +48732000000 (on AWS the stack turns it on for the registered number;
    # locally the inbound topic is fed by POST /_local/sms, and custom resources do not run).
    "SmsTwoWayNumberId": "phone-" + "0" * 32,
}


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    environment: dict[str, str]
    arn: str
    async_retries: int = 2
    on_failure_arn: str | None = None


@dataclass
class StreamMapping:
    function: str
    stream_arn: str
    batch_size: int
    max_retries: int
    report_item_failures: bool
    on_failure_arn: str | None
    filters: list[dict[str, Any]]


@dataclass
class QueueMapping:
    """An SQS event source mapping: Lambda polls the queue and deletes what succeeded."""

    function: str
    queue_arn: str
    queue_url: str
    batch_size: int
    report_item_failures: bool


@dataclass
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /l/{token}
    function: str


@dataclass
class Deployment:
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    stream_mappings: list[StreamMapping] = field(default_factory=list)
    queue_mappings: list[QueueMapping] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> url
    schedule_groups: list[str] = field(default_factory=list)
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> arn
    email_from: str = ""
    stage: str = ""  # the API stage every route is served under (API Gateway's URL)
    # SES configuration set -> the SNS topic its bounce / complaint events go to.
    ses_event_topics: dict[str, str] = field(default_factory=dict)
    # The topic End User Messaging SMS publishes patients' texts to (T1): sms_replies' topic.
    inbound_sms_topic: str = ""

    def function_by_arn(self, arn: str) -> FunctionSpec:
        name = arn.split(":function:")[-1].split(":")[0]
        return self.functions[name]


def _short(logical_id: str, limit: int = 64) -> str:
    return re.sub(r"[^A-Za-z0-9-_]", "", logical_id)[:limit]


def _function_name(properties: dict[str, Any]) -> str:
    # functions.<name>.handler.lambda_handler -> <name>
    return str(properties["Handler"]).split(".")[1]


def _ours(function_properties: dict[str, Any]) -> bool:
    """Our handlers (not CDK's own deploy-time helpers, e.g. custom resources)."""
    return str(function_properties.get("Handler", "")).startswith("functions.")


# The one table's local name, known without a synth: tests set TABLE_NAME to it before
# the shared package (which reads it once, at import) is imported.
LOCAL_TABLE = f"{STACK}-table"


def table_name(logical_id: str) -> str:
    return LOCAL_TABLE


class LocalDeployer:
    def __init__(self, template: Template, public_base_url: str) -> None:
        self.t = template
        self.public_base_url = public_base_url.rstrip("/")
        self.names: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        self.stream_arns: dict[str, str] = {}
        self.queue_urls: dict[str, str] = {}
        self.parameters = {k: str(v["Default"]) for k, v in template.parameters.items() if "Default" in v}
        self.parameters.update({k: v for k, v in LOCAL_PARAMETERS.items() if k in template.parameters})
        self.resolve = Resolver(
            self._ref,
            self._attr,
            {
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": STACK,
                "AWS::NoValue": "",
            },
            self.parameters,
            template.conditions,
        )

    # -- names -------------------------------------------------------------------------
    # Per resource type: its local physical name (from the logical id and properties)
    # and its ARN pattern ({n} = the name), as AWS would form them.
    _NAMING: dict[str, tuple[Callable[[str, dict[str, Any]], str], str | None]] = {
        "AWS::Lambda::Function": (
            lambda logical, p: _function_name(p),
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{n}}",
        ),
        "AWS::IAM::Role": (lambda logical, p: _short(logical), f"arn:aws:iam::{ACCOUNT}:role/{{n}}"),
        "AWS::DynamoDB::Table": (
            lambda logical, p: table_name(logical),
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{{n}}",
        ),
        "AWS::SQS::Queue": (lambda logical, p: _short(logical, 80), f"arn:aws:sqs:{REGION}:{ACCOUNT}:{{n}}"),
        "AWS::SNS::Topic": (lambda logical, p: _short(logical), f"arn:aws:sns:{REGION}:{ACCOUNT}:{{n}}"),
        "AWS::Scheduler::ScheduleGroup": (
            lambda logical, p: p.get("Name") or _short(logical),
            f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{{n}}",
        ),
        "AWS::StepFunctions::StateMachine": (
            lambda logical, p: _short(logical, 80),
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{{n}}",
        ),
        "AWS::ApiGateway::RestApi": (lambda logical, p: "local", None),
        # Ref of a stage is its name.
        "AWS::ApiGateway::Stage": (lambda logical, p: p["StageName"], None),
        "AWS::SES::ConfigurationSet": (lambda logical, p: p.get("Name") or _short(logical), None),
        # Ref of a key is its id; the deploy takes both from the key KMS creates.
        "AWS::KMS::Key": (lambda logical, p: logical, f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{{n}}"),
        "AWS::Logs::LogGroup": (
            lambda logical, p: f"/local/{logical}",
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{{n}}",
        ),
    }

    def _plan_names(self) -> None:
        for logical, res in self.t.resources.items():
            props = res.get("Properties", {})
            naming = self._NAMING.get(res["Type"])
            if naming is None or (res["Type"] == "AWS::Lambda::Function" and not _ours(props)):
                continue
            name_of, arn = naming
            self.names[logical] = name_of(logical, props)
            if arn is not None:
                self.arns[logical] = arn.format(n=self.names[logical])

    def _ref(self, logical: str) -> str:
        kind = self.t.resources[logical]["Type"]
        if kind in (
            "AWS::SNS::Topic",
            "AWS::StepFunctions::StateMachine",
            "AWS::Lambda::LayerVersion",
        ):
            return self.arns.get(logical, logical)
        if kind == "AWS::SQS::Queue":
            return self.queue_urls.get(logical, self.names[logical])
        return self.names.get(logical, logical)

    def _attr(self, logical: str, name: str) -> str:
        if name == "StreamArn":
            return self.stream_arns[logical]
        if name == "Arn":
            return self.arns[logical]
        if name in ("QueueName", "Name"):
            return self.names[logical]
        if name == "QueueUrl":
            return self.queue_urls[logical]
        if name == "RootResourceId":
            return "root"
        return f"{logical}.{name}"

    # -- creation ------------------------------------------------------------------------
    def deploy(self) -> Deployment:
        missing = sorted(
            set(self.t.parameters)
            - set(self.parameters)
            - {"FcmPlatformApplicationArn", "ApnsPlatformApplicationArn"}
        )
        if missing:
            raise ValueError(f"no value for the template's required parameters {missing}")
        self._plan_names()
        out = Deployment()
        self._keys()
        self._messaging_identities(out)
        self._storage(out)
        self._messaging(out)
        for logical in self.t.of_type("AWS::Scheduler::ScheduleGroup"):
            boto3.client("scheduler").create_schedule_group(Name=self.names[logical])
            out.schedule_groups.append(self.names[logical])
        self._compute(out)
        (stage,) = self.t.of_type("AWS::ApiGateway::Stage").values()
        out.stage = stage["Properties"]["StageName"]
        out.routes = self._routes()
        return out

    def _keys(self) -> None:
        """KMS keys first: functions name them in their environment."""
        kms = boto3.client("kms")
        for logical, res in self.t.of_type("AWS::KMS::Key").items():
            props = res.get("Properties", {})
            created = kms.create_key(
                KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
                KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
                Description=str(props.get("Description", logical)),
            )
            self.names[logical] = created["KeyMetadata"]["KeyId"]
            self.arns[logical] = created["KeyMetadata"]["Arn"]

    def _storage(self, out: Deployment) -> None:
        """Roles, tables and queues."""
        for logical, res in self.t.of_type("AWS::IAM::Role").items():
            doc = self.resolve(res["Properties"]["AssumeRolePolicyDocument"])
            boto3.client("iam").create_role(RoleName=self.names[logical], AssumeRolePolicyDocument=json.dumps(doc))
        tables = self.t.of_type("AWS::DynamoDB::Table")
        if len(tables) != 1:
            raise NotImplementedError(f"the local stack names one table ({LOCAL_TABLE}); found {len(tables)}")
        for logical, res in tables.items():
            out.tables[logical] = self._table(logical, res["Properties"])
        queues = self.t.of_type("AWS::SQS::Queue")
        # Dead-letter queues first: a queue's redrive policy names its dead-letter queue.
        for logical in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
            props = self.resolve(queues[logical].get("Properties", {}))
            attributes = {
                name: json.dumps(props[name]) if name == "RedrivePolicy" else str(props[name])
                for name in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "RedrivePolicy")
                if name in props
            }
            url = boto3.client("sqs").create_queue(QueueName=self.names[logical], Attributes=attributes)[
                "QueueUrl"
            ]
            self.queue_urls[logical] = url
            out.queues[logical] = url

    def _messaging(self, out: Deployment) -> None:
        """SNS topics, SES configuration sets and where their events go."""
        for logical in self.t.of_type("AWS::SNS::Topic"):
            boto3.client("sns").create_topic(Name=self.names[logical])
        for logical in self.t.of_type("AWS::SES::ConfigurationSet"):
            boto3.client("sesv2").create_configuration_set(ConfigurationSetName=self.names[logical])
        for res in self.t.of_type("AWS::SES::ConfigurationSetEventDestination").values():
            props = self.resolve(res["Properties"])
            destination = props["EventDestination"].get("SnsDestination")
            if destination:
                out.ses_event_topics[props["ConfigurationSetName"]] = destination["TopicARN"]

    def _compute(self, out: Deployment) -> None:
        """Functions, the state machine, async-invoke settings and event sources."""
        for logical, res in self.t.of_type("AWS::Lambda::Function").items():
            if _ours(res["Properties"]):  # not CDK's deploy-time helpers
                spec = self._function(logical, res["Properties"])
                out.functions[spec.name] = spec
        for logical, res in self.t.of_type("AWS::StepFunctions::StateMachine").items():
            props = self.resolve(res["Properties"])
            boto3.client("stepfunctions").create_state_machine(
                name=self.names[logical], definition=props["DefinitionString"], roleArn=props["RoleArn"]
            )
            out.state_machines[logical] = self.arns[logical]
        for res in self.t.of_type("AWS::Lambda::EventInvokeConfig").values():
            props = self.resolve(res["Properties"])
            spec = out.functions[props["FunctionName"]]
            spec.async_retries = int(props.get("MaximumRetryAttempts", 2))
            spec.on_failure_arn = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        for res in self.t.of_type("AWS::Lambda::EventSourceMapping").values():
            props = self.resolve(res["Properties"])
            if ":sqs:" in props["EventSourceArn"]:
                out.queue_mappings.append(self._queue_mapping(props))
            else:
                out.stream_mappings.append(self._mapping(props))
        for res in self.t.of_type("AWS::SNS::Subscription").values():
            props = self.resolve(res["Properties"])
            if props["Protocol"] == "lambda":  # SNS invokes Lambda asynchronously
                boto3.client("sns").subscribe(
                    TopicArn=props["TopicArn"], Protocol="lambda", Endpoint=props["Endpoint"]
                )
                if out.function_by_arn(props["Endpoint"]).name == "sms_replies":
                    out.inbound_sms_topic = props["TopicArn"]

    def _messaging_identities(self, out: Deployment) -> None:
        sns = boto3.client("sns")
        for param, platform in (("FcmPlatformApplicationArn", "GCM"), ("ApnsPlatformApplicationArn", "APNS")):
            if param in self.t.parameters:
                arn = sns.create_platform_application(
                    Name="patient-notify", Platform=platform, Attributes={"PlatformCredential": "local"}
                )["PlatformApplicationArn"]
                self.parameters[param] = arn
        out.email_from = self.parameters.get("EmailFrom", "")
        ses = boto3.client("ses")
        if self.parameters.get("EmailIdentity"):
            ses.verify_domain_identity(Domain=self.parameters["EmailIdentity"])
        if out.email_from:
            ses.verify_email_identity(EmailAddress=out.email_from)

    def _table(self, logical: str, props: dict[str, Any]) -> str:
        props = self.resolve(props)
        name = self.names[logical]
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        client = boto3.client("dynamodb")
        described = client.create_table(**args)["TableDescription"]
        if "LatestStreamArn" in described:
            self.stream_arns[logical] = described["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        return name

    def _function(self, logical: str, raw: dict[str, Any]) -> FunctionSpec:
        props = self.resolve(raw)
        env = dict(props.get("Environment", {}).get("Variables", {}))
        env.update(LOCAL_ENVIRONMENT.get(_function_name(props), {}))
        for key, value in env.items():
            # The API's public URL is the local server's, with the stage path kept.
            if isinstance(value, str) and ".execute-api." in value:
                env[key] = re.sub(r"^https://[^/]+", self.public_base_url, value)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("README", "code runs in-process from the working tree")
        name = self.names[logical]
        boto3.client("lambda").create_function(
            FunctionName=name,
            Runtime=props["Runtime"],
            Role=props["Role"],
            Handler=props["Handler"],
            Code={"ZipFile": buffer.getvalue()},
            Environment={"Variables": env},
            Timeout=int(props.get("Timeout", 30)),
            MemorySize=int(props.get("MemorySize", 128)),
        )
        return FunctionSpec(logical, name, props["Handler"], env, self.arns[logical])

    def _mapping(self, props: dict[str, Any]) -> StreamMapping:
        filters = [json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])]
        return StreamMapping(
            function=props["FunctionName"],
            stream_arn=props["EventSourceArn"],
            batch_size=int(props.get("BatchSize", 100)),
            max_retries=int(props.get("MaximumRetryAttempts", -1)),
            report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            on_failure_arn=props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
            filters=filters,
        )

    def _queue_mapping(self, props: dict[str, Any]) -> QueueMapping:
        arn = props["EventSourceArn"]
        url = next(u for logical, u in self.queue_urls.items() if self.arns[logical] == arn)
        return QueueMapping(
            function=props["FunctionName"],
            queue_arn=arn,
            queue_url=url,
            batch_size=int(props.get("BatchSize", 10)),
            report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        )

    def _routes(self) -> list[Route]:
        resources = self.t.of_type("AWS::ApiGateway::Resource")

        def path_of(ref: Any) -> str:
            if isinstance(ref, dict) and "Fn::GetAtt" in ref:
                return ""  # the API's root resource
            logical = ref["Ref"]
            props = resources[logical]["Properties"]
            return f"{path_of(props['ParentId'])}/{props['PathPart']}"

        routes = []
        for res in self.t.of_type("AWS::ApiGateway::Method").values():
            props = res["Properties"]
            uri = self.resolve(props["Integration"]["Uri"])
            function = uri.split(":function:")[1].split("/")[0]
            routes.append(Route(props["HttpMethod"], path_of(props["ResourceId"]) or "/", function))
        return routes

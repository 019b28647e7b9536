"""What the synthesised template must guarantee (real CDK synth, cdk-nag included)."""

import json
from pathlib import Path

from aws_cdk.assertions import Annotations, Match

ROOT = Path(__file__).resolve().parents[2]

# Every function the repository has: each must be in the template, nothing else.
FUNCTIONS = tuple(sorted(p.parent.name for p in (ROOT / "functions").glob("*/handler.py")))


def _resources(template, kind):
    return template.find_resources(kind)


def test_table_has_stream_pitr_encryption_and_ttl(template):
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def _ours(template) -> dict:
    """Our functions (CDK's own deploy-time helper for the custom resource aside)."""
    return {
        k: f
        for k, f in _resources(template, "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"].startswith("functions.")
    }


def test_every_function_is_arm64_with_the_shared_layer_and_its_handler_path(template):
    functions = _ours(template)
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {f"functions.{name}.handler.lambda_handler" for name in FUNCTIONS}
    for function in functions.values():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"].startswith("python3.1") and props["Runtime"] >= "python3.12"
        assert len(props["Layers"]) == 1
        assert props["TracingConfig"] == {"Mode": "Active"}


def _settings_class_of(handler_name: str):
    """The settings class a handler validates its environment with (read off its source)."""
    import re

    import notify.settings

    source = (ROOT / "functions" / handler_name / "handler.py").read_text()
    (name,) = set(re.findall(r"(\w+Settings)\.from_env\(\)", source))
    return getattr(notify.settings, name)


def test_functions_get_exactly_the_variables_their_settings_validate(template):
    for function in _ours(template).values():
        name = function["Properties"]["Handler"].split(".")[1]
        variables = set(function["Properties"]["Environment"]["Variables"])
        fields = _settings_class_of(name).model_fields.values()
        wanted = {f.alias for f in fields}
        required = {f.alias for f in fields if f.is_required()}
        assert required <= variables, (name, required - variables)
        assert not {v for v in variables - wanted if not v.startswith("POWERTOOLS_")}, name
        assert not {v for v in variables if v.startswith("LOCAL_")}, (name, "local-stack-only settings")


def test_b8_stream_mappings_are_bounded_partial_and_dead_lettered(template):
    streams = [
        m
        for m in _resources(template, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    assert len(streams) == 2
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 3,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "StartingPosition": "TRIM_HORIZON",
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
            "FilterCriteria": {
                "Filters": Match.array_with(
                    [
                        {
                            "Pattern": json.dumps(
                                {"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "APPT#"}]}}}}, separators=(",", ":")
                            )
                        }
                    ]
                )
            },
        },
    )


def test_b8_async_sends_retry_twice_then_dead_letter(template):
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
        },
    )


def _logical_of(template, handler_name: str) -> str:
    (logical,) = [
        k
        for k, f in _ours(template).items()
        if f["Properties"]["Handler"] == f"functions.{handler_name}.handler.lambda_handler"
    ]
    return logical


def test_b8_every_asynchronously_invoked_function_has_a_failure_destination(template):
    """Async invokes, Scheduler targets and SNS subscribers: Lambda's async queue retries
    and then drops the event unless the function has an on-failure destination."""
    body = template.to_json()["Resources"]
    async_targets = set()
    for resource in body.values():
        text = json.dumps(resource)
        if resource["Type"] == "AWS::SNS::Subscription" and resource["Properties"]["Protocol"] == "lambda":
            async_targets.add(resource["Properties"]["Endpoint"]["Fn::GetAtt"][0])
        if resource["Type"] == "AWS::IAM::Policy" and "lambda:InvokeFunction" in text:
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                if "lambda:InvokeFunction" not in json.dumps(statement["Action"]):
                    continue
                for target in (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                ):
                    if isinstance(target, dict) and "Fn::GetAtt" in target:
                        async_targets.add(target["Fn::GetAtt"][0])
    # sms_fallback is invoked synchronously by the state machine (Step Functions retries).
    async_targets.discard(_logical_of(template, "sms_fallback"))
    assert {_logical_of(template, n) for n in ("send_push", "recall_sweep", "delivery_events")} <= async_targets
    configured = {
        c["Properties"]["FunctionName"]["Ref"]
        for c in _resources(template, "AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    }
    assert async_targets <= configured, async_targets - configured


def test_c1_escalation_machine_waits_reads_the_appointment_then_sends_sms(template):
    machines = _resources(template, "AWS::StepFunctions::StateMachine")
    (machine,) = machines.values()
    definition = "".join(str(part) for part in machine["Properties"]["DefinitionString"]["Fn::Join"][1])
    for fragment in (
        '"TimestampPath":"$.escalate_at"',
        ":states:::dynamodb:getItem",
        '"sk":{"S.$":"$.record_key"}',
        "Functionssmsfallback",
        '"Variable":"$.current.Item.status.S"',
        '"StringEquals":"viewed"',
    ):
        assert fragment in definition, fragment
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}


def test_k1_schedule_reminder_also_reads_practice_profiles_and_manual_recalls(template):
    mappings = _resources(template, "AWS::Lambda::EventSourceMapping").values()
    patterns = sorted(json.dumps(m["Properties"].get("FilterCriteria")) for m in mappings)
    joined = " ".join(patterns)
    assert "PROFILE" in joined and "RECALL#" in joined and "manual" in joined
    policies = json.dumps(_resources(template, "AWS::IAM::Policy"))
    assert "scheduler:UpdateSchedule" in policies


def test_scheduler_group_and_role_exist_and_planner_is_scoped_to_the_group(template):
    template.resource_count_is("AWS::Scheduler::ScheduleGroup", 1)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "scheduler.amazonaws.com"}})]
            }
        },
    )
    policies = json.dumps(_resources(template, "AWS::IAM::Policy"))
    assert "scheduler:CreateSchedule" in policies
    assert '"scheduler:*"' not in policies


def test_security_no_iam_statement_grants_every_action(template):
    for policy in _resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions
            assert not any(a.endswith(":*") for a in actions), actions
            if statement["Resource"] == "*":
                # Only actions AWS defines without a resource ARN may use "*".
                allowed = {
                    "sns:Publish",
                    "sns:CheckIfPhoneNumberIsOptedOut",
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "dynamodb:ListStreams",
                    # Step Functions' vended log delivery is account-level by design.
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                    # the account's SMS delivery-status logging role (O1)
                    "sns:SetSMSAttributes",
                }
                assert set(actions) <= allowed, actions


def test_b8_alarms_on_dead_letters_errors_throttles_and_failed_escalations(template):
    alarms = _resources(template, "AWS::CloudWatch::Alarm").values()
    metrics = {a["Properties"].get("MetricName") for a in alarms}
    assert {"ApproximateNumberOfMessagesVisible", "Errors", "Throttles", "ExecutionsFailed"} <= metrics
    per_function = [
        json.dumps(a["Properties"]["Dimensions"])
        for a in alarms
        if a["Properties"].get("MetricName") in ("Errors", "Throttles")
    ]
    assert len(per_function) == 2 * len(FUNCTIONS)
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"], "every alarm notifies the operators"


def test_queues_are_encrypted_and_ssl_only(template):
    for queue in _resources(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    template.resource_count_is("AWS::SQS::QueuePolicy", 5)  # four dead-letter queues, the paced SMS queue


def test_api_serves_the_webhook_and_patient_links(template):
    paths = {r["Properties"]["PathPart"] for r in _resources(template, "AWS::ApiGateway::Resource").values()}
    assert {"practices", "{practice_id}", "events", "l", "{token}", "confirm", "cancel", "calendar.ics"} <= paths
    # The stage carries the version: .../v1/practices/{id}/events, .../v1/l/{token}.
    (stage,) = _resources(template, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "v1"


def test_cdk_nag_aws_solutions_reports_no_unsuppressed_errors(synthesised):
    stack, _ = synthesised
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert errors == [], [e.entry.data for e in errors]

"""What AWS enforces and the local stack cannot show, asserted on the synthesised template:
stream readers, alarms that reach a person (O1), least privilege, throttling, deploys
that fail early or work, and sending on a new account. Each test names the AWS fact it
guards (docs/local-stack.md, "What the emulator hides")."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from infra.stack import TABLE_ACCESS

ROOT = Path(__file__).resolve().parents[2]


def _resources(template, kind: str) -> dict:
    return template.find_resources(kind)


def _body(template) -> dict:
    return template.to_json()


def _function_logicals(template) -> dict[str, str]:
    """handler name -> logical id of our functions."""
    return {
        f["Properties"]["Handler"].split(".")[1]: k
        for k, f in _resources(template, "AWS::Lambda::Function").items()
        if f["Properties"]["Handler"].startswith("functions.")
    }


def _role_of(template, function_logical: str) -> str:
    function = _resources(template, "AWS::Lambda::Function")[function_logical]
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


def _statements_of_role(template, role_logical: str) -> list[dict]:
    statements = []
    for policy in _resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# -- streams ------------------------------------------------------------------------------
def _stream_mappings(template) -> dict:
    """The table stream's readers (a queue's mapping has no starting position)."""
    return {
        logical: m
        for logical, m in _resources(template, "AWS::Lambda::EventSourceMapping").items()
        if "StartingPosition" in m["Properties"]
    }


def test_a_table_stream_has_at_most_two_readers_per_shard(template):
    """DynamoDB Streams throttles more than two processes reading one shard
    (LimitExceededException); each event source mapping is one reader."""
    readers: dict[str, list[str]] = defaultdict(list)
    for logical, mapping in _resources(template, "AWS::Lambda::EventSourceMapping").items():
        readers[json.dumps(mapping["Properties"]["EventSourceArn"], sort_keys=True)].append(logical)
    assert readers and all(len(r) <= 2 for r in readers.values()), dict(readers)


def test_a_stream_reader_has_no_more_filters_than_lambda_accepts(template):
    """Lambda accepts five filters per event source mapping by default (up to ten on
    request); creating the mapping with more fails at deploy time, not here."""
    for logical, mapping in _stream_mappings(template).items():
        assert 1 <= len(mapping["Properties"]["FilterCriteria"]["Filters"]) <= 5, logical


def test_planning_and_freed_slots_share_a_reader_and_callbacks_have_their_own(template):
    functions = _function_logicals(template)
    mappings = {
        m["Properties"]["FunctionName"]["Ref"]: json.dumps(m["Properties"]["FilterCriteria"])
        for m in _stream_mappings(template).values()
    }
    assert set(mappings) == {functions["schedule_reminder"], functions["practice_callback"]}
    assert "APPT#" in mappings[functions["schedule_reminder"]]
    assert "ERASURE#" in mappings[functions["schedule_reminder"]]  # P1 runs in the planner
    assert "CALLBACK#" in mappings[functions["practice_callback"]]
    assert "APPT#" not in mappings[functions["practice_callback"]]


# -- O1: alarms reach a person ----------------------------------------------------------
def test_o1_alarm_topic_uses_a_customer_key_that_cloudwatch_may_use(template):
    """With the AWS-managed alias/aws/sns key CloudWatch cannot publish: the alarm fires
    and nothing arrives."""
    alarm_actions = {
        json.dumps(a)
        for alarm in _resources(template, "AWS::CloudWatch::Alarm").values()
        for a in alarm["Properties"]["AlarmActions"]
    }
    (topic_ref,) = alarm_actions
    topic = _resources(template, "AWS::SNS::Topic")[json.loads(topic_ref)["Ref"]]
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    assert "alias/aws/sns" not in json.dumps(key_ref)
    key = _resources(template, "AWS::KMS::Key")[key_ref["Fn::GetAtt"][0]]
    assert key["Properties"]["EnableKeyRotation"] is True
    allowed = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "cloudwatch.amazonaws.com" in json.dumps(s.get("Principal", {}))
    ]
    assert allowed, "the key policy must let CloudWatch use the key"
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= {a for s in allowed for a in _actions(s)}


def test_o1_alarm_topic_reaches_the_operator_given_at_deploy_time(template):
    body = _body(template)
    operator = body["Parameters"]["OperatorEmail"]
    assert "Default" not in operator, "the operator's address is a required deploy setting"
    subscriptions = [
        s["Properties"]
        for s in _resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]
    assert subscriptions == [
        {"Protocol": "email", "Endpoint": {"Ref": "OperatorEmail"}, "TopicArn": subscriptions[0]["TopicArn"]}
    ]
    assert "AlarmTopicArn" in body["Outputs"]


def _runbook_anchors() -> set[str]:
    text = (ROOT / "docs" / "runbook.md").read_text()
    headings = re.findall(r"^#{2,3} (.+)$", text, flags=re.M)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-") for h in headings}


def test_o1_every_alarm_says_what_broke_and_links_its_runbook_entry(template):
    anchors = _runbook_anchors()
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    for logical, alarm in alarms.items():
        description = json.dumps(alarm["Properties"].get("AlarmDescription", ""))
        match = re.search(r"Runbook: docs/runbook\.md#([a-z0-9-]+)", description)
        assert match, (logical, description)
        assert match.group(1) in anchors, (logical, match.group(1))
        assert len(description.split("Runbook:")[0]) > 20, (logical, "say what broke")


def _alarm_metrics(template) -> set[str]:
    names = set()
    for alarm in _resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if "MetricName" in props:
            names.add(props["MetricName"])
        for metric in props.get("Metrics", []):
            stat = metric.get("MetricStat")
            if stat:
                names.add(stat["Metric"]["MetricName"])
    return names


def test_o1_alarms_cover_what_the_spec_lists(template):
    assert {
        "5XXError",  # API 5xx
        "RequestsRejected",  # bursts of 401
        "SmsDeliveryFailures",  # failed SMS deliveries
        "EmailBounced",
        "EmailComplained",  # bounces and complaints
        "ReadThrottleEvents",
        "WriteThrottleEvents",  # DynamoDB throttling
        "InvocationThrottleCount",
        "TargetErrorThrottledCount",  # Scheduler throttling
        "IteratorAge",  # stream iterator age
        "ApproximateNumberOfMessagesVisible",  # dead letters
        "ExecutionsFailed",  # failed escalations
        "SmsQuotaReached",  # practices at their SMS quota
        "SMSMonthToDateSpentUSD",  # the account's SMS spend limit
    } <= _alarm_metrics(template)


def test_o1_failed_sms_deliveries_are_logged_and_counted(template):
    """SNS logs SMS delivery status only once the account has a delivery-status role."""
    (log_group,) = [
        g
        for g in _resources(template, "AWS::Logs::LogGroup").values()
        if "DirectPublishToPhoneNumber/Failure" in json.dumps(g["Properties"])
    ]
    assert log_group["Properties"]["RetentionInDays"] > 0
    (custom,) = [c for c in _resources(template, "Custom::AWS").values() if "setSMSAttributes" in json.dumps(c)]
    assert "DeliveryStatusIAMRole" in json.dumps(custom["Properties"])
    (metric_filter,) = _resources(template, "AWS::Logs::MetricFilter").values()
    assert metric_filter["Properties"]["MetricTransformations"][0]["MetricName"] == "SmsDeliveryFailures"


def test_o1_dashboard_shows_every_alarm(template):
    (dashboard,) = _resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for logical in _resources(template, "AWS::CloudWatch::Alarm"):
        assert logical in body, logical


# -- least privilege ----------------------------------------------------------------------
def test_security_each_function_may_call_only_the_table_operations_its_code_calls(template):
    for name, logical in _function_logicals(template).items():
        granted = {
            a.split(":")[1]
            for s in _statements_of_role(template, _role_of(template, logical))
            for a in _actions(s)
            if a.startswith("dynamodb:")
        }
        granted.discard("ListStreams")  # the stream reader's own, see below
        stream = {"DescribeStream", "GetRecords", "GetShardIterator"}
        assert granted - stream == set(TABLE_ACCESS[name]), name
        assert not granted & {"Scan", "BatchWriteItem"}, name
        # A batch read reads what the function may read item by item (read_cache.prefetch).
        assert "BatchGetItem" not in granted or "GetItem" in granted, name
        # Deleting is for consuming held changes (B9, the webhook) and erasure (P1, the planner).
        if name not in {"booking_webhook", "schedule_reminder"}:
            assert "DeleteItem" not in granted, name


def test_security_index_wildcards_only_with_queries(template):
    for logical in _function_logicals(template).values():
        for statement in _statements_of_role(template, _role_of(template, logical)):
            if "/index/*" in json.dumps(statement["Resource"]):
                assert _actions(statement) == ["dynamodb:Query"], statement


def _nag_suppressions(template) -> list[tuple[str, dict]]:
    found = []
    for logical, resource in _body(template)["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found.append((logical, rule))
    return found


def test_security_cdk_nag_wildcard_suppressions_are_scoped_to_their_findings(template, synthesised):
    stack, _ = synthesised
    stack_level = stack.template_options.metadata.get("cdk_nag", {}).get("rules_to_suppress", [])
    assert all(r["id"] != "AwsSolutions-IAM5" for r in stack_level), "no stack-wide IAM5"
    iam5 = [(logical, rule) for logical, rule in _nag_suppressions(template) if rule["id"] == "AwsSolutions-IAM5"]
    assert iam5
    for logical, rule in iam5:
        assert rule.get("applies_to"), (logical, "an IAM5 suppression names its findings")


def test_security_no_suppression_claims_a_firewall_the_stack_does_not_have(template):
    assert not [r for _, r in _nag_suppressions(template) if r["id"] == "AwsSolutions-APIG3"]
    (association,) = _resources(template, "AWS::WAFv2::WebACLAssociation").values()
    ((acl_logical, acl),) = _resources(template, "AWS::WAFv2::WebACL").items()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_logical, "Arn"]}
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    links = rules["PatientLinksPerIp"]["Statement"]["RateBasedStatement"]
    assert links["AggregateKeyType"] == "IP" and "Block" in rules["PatientLinksPerIp"]["Action"]
    assert re.match(links["ScopeDownStatement"]["RegexMatchStatement"]["RegexString"], "/v1/l/x")
    assert not re.match(
        links["ScopeDownStatement"]["RegexMatchStatement"]["RegexString"], "/v1/practices/p/events"
    )


def test_security_link_routes_are_throttled_apart_from_the_practices_routes(template):
    """API Gateway applies stage and method limits per method: every link method gets
    its own, lower limits, so a flood of link requests cannot starve the webhook."""
    (stage,) = _resources(template, "AWS::ApiGateway::Stage").values()
    settings = {
        (m["ResourcePath"], m["HttpMethod"]): m
        for m in stage["Properties"]["MethodSettings"]
        if "ThrottlingRateLimit" in m
    }
    methods = [
        (m["Properties"]["HttpMethod"], m) for m in _resources(template, "AWS::ApiGateway::Method").values()
    ]
    assert len(settings) == len(methods)
    links = {k: v for k, v in settings.items() if re.match(r"^/~1[lrg]~1", k[0])}
    practices = {k: v for k, v in settings.items() if k[0].startswith("/~1practices")}
    contract = {k: v for k, v in settings.items() if k[0] == "/~1openapi.json"}  # the API's public document
    assert links and practices and len(links) + len(practices) + len(contract) == len(settings)
    assert max(v["ThrottlingRateLimit"] for v in links.values()) < min(
        v["ThrottlingRateLimit"] for v in practices.values()
    )


# -- deploys that fail early or work --------------------------------------------------------
def test_deploy_channel_settings_have_no_dummy_defaults(template):
    parameters = _body(template)["Parameters"]
    for name in (
        "FcmPlatformApplicationArn",
        "ApnsPlatformApplicationArn",
        "EmailFrom",
        "EmailIdentity",
        "OperatorEmail",
        "SmsOriginations",
    ):
        assert "Default" not in parameters[name], name
        assert parameters[name].get("AllowedPattern"), name
    for name in ("FcmPlatformApplicationArn", "ApnsPlatformApplicationArn"):
        pattern = parameters[name]["AllowedPattern"]
        assert re.match(pattern, "none")
        assert re.match(pattern, "arn:aws:sns:eu-central-1:123456789012:app/GCM/clinic-app")
        assert not re.match(pattern, "arn:aws:sns:eu-central-1:000000000000:app/GCM/x y")


def test_deploy_schedule_group_has_a_generated_name_and_goes_with_the_stack(template):
    (group,) = _resources(template, "AWS::Scheduler::ScheduleGroup").values()
    assert "Name" not in group.get("Properties", {}), "a fixed name fails a re-create"
    assert group["DeletionPolicy"] == "Delete"


def test_deploy_table_has_deletion_protection_and_point_in_time_recovery(template):
    (table,) = _resources(template, "AWS::DynamoDB::Table").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_deploy_the_layer_carries_only_the_runtime_bytecode():
    """pip compiles what it installs with the build machine's Python; Lambda cannot use
    that bytecode, so it is dead weight beside the runtime's own."""
    from infra.build_layer import OUT
    from infra.lambda_python import VERSION

    tag = f"cpython-{VERSION.replace('.', '')}"
    compiled = list(OUT.rglob("*.pyc"))
    wrong = [p for p in compiled if tag not in p.name]
    assert not wrong, wrong[:5]


# -- sending on a new account -----------------------------------------------------------------
def test_sending_email_goes_through_a_configuration_set_reporting_bounces_and_complaints(template):
    (config_set_logical,) = _resources(template, "AWS::SES::ConfigurationSet")
    (destination,) = _resources(template, "AWS::SES::ConfigurationSetEventDestination").values()
    event = destination["Properties"]["EventDestination"]
    assert {"bounce", "complaint"} <= set(event["MatchingEventTypes"])
    topic = event["SnsDestination"]["TopicARN"]["Ref"]
    functions = _function_logicals(template)
    subscribers = [
        s["Properties"]["Endpoint"]
        for s in _resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic}
    ]
    assert subscribers == [{"Fn::GetAtt": [functions["delivery_events"], "Arn"]}]
    for sender in ("send_push", "sms_fallback"):
        variables = _resources(template, "AWS::Lambda::Function")[functions[sender]]["Properties"]["Environment"][
            "Variables"
        ]
        assert variables["EMAIL_CONFIGURATION_SET"] == {"Ref": config_set_logical}
        assert variables["SMS_ORIGINATIONS"] == {"Ref": "SmsOriginations"}


def test_t1_texts_to_our_number_reach_sms_replies_through_an_encrypted_topic(template):
    """End User Messaging SMS publishes a two-way number's incoming texts to an SNS topic
    (standard, not FIFO); an encrypted topic needs the topic policy and the key policy to
    let sms-voice.amazonaws.com publish (End User Messaging SMS guide, "Topic policies for
    Amazon SNS topics"). Moto delivers without either."""
    body = _body(template)
    number = body["Parameters"]["SmsTwoWayNumberId"]
    assert "Default" not in number and re.fullmatch(number["AllowedPattern"], "none")
    assert re.fullmatch(number["AllowedPattern"], "phone-" + "0a" * 16)
    (custom,) = [c for c in _resources(template, "Custom::AWS").values() if "updatePhoneNumber" in json.dumps(c)]
    assert custom["Condition"].startswith("MessagingTwoWaySmsConfigured"), "off while no number is given"
    call = json.dumps(custom["Properties"]["Create"])
    assert "TwoWayEnabled" in call and "TwoWayChannelArn" in call
    topic_logical = next(t for t in _resources(template, "AWS::SNS::Topic") if t in call)
    topic = _resources(template, "AWS::SNS::Topic")[topic_logical]["Properties"]
    assert "ContentBasedDeduplication" not in topic and not topic.get("FifoTopic")
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": topic_logical} in p["Properties"]["Topics"]
    ]
    assert any(
        "sms-voice.amazonaws.com" in json.dumps(s.get("Principal")) and "sns:Publish" in _actions(s)
        for statements in policies
        for s in statements
    )
    key = _resources(template, "AWS::KMS::Key")[topic["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    assert "KeySpec" not in key["Properties"], "encrypted topics need a symmetric key"
    assert any(
        "sms-voice.amazonaws.com" in json.dumps(s.get("Principal", {}))
        and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(_actions(s))
        for s in key["Properties"]["KeyPolicy"]["Statement"]
    )
    functions = _function_logicals(template)
    subscribers = [
        s["Properties"]["Endpoint"]
        for s in _resources(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_logical}
    ]
    assert subscribers == [{"Fn::GetAtt": [functions["sms_replies"], "Arn"]}]


def test_a1_the_operator_dashboard_shows_outcome_totals_without_a_per_practice_dimension(template):
    from notify.dal.outcomes import FEATURES

    (dashboard,) = _resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for feature in FEATURES:
        assert f"Outcome_{feature}" in body, feature
    assert "practice_id" not in body


# -- D17: SMS paced to the account's rate ---------------------------------------------------
def _paced_queue(template) -> tuple[dict, dict, dict]:
    """(the paced queue's mapping, the queue, its dead-letter queue)."""
    (mapping,) = [
        m["Properties"]
        for m in _resources(template, "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" not in m["Properties"]
    ]
    queues = _resources(template, "AWS::SQS::Queue")
    queue = queues[mapping["EventSourceArn"]["Fn::GetAtt"][0]]["Properties"]
    dead_letters = queues[queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]]["Properties"]
    return mapping, queue, dead_letters


def test_b8_the_paced_sms_queue_is_read_the_way_lambda_asks(template):
    """Lambda's SQS mapping: the queue's visibility timeout at least six times the
    function's timeout (or a batch in work shows again); partial batch responses; at most
    10 messages a batch without a batching window; maximum concurrency 2 to 1,000."""
    functions = _function_logicals(template)
    mapping, queue, _ = _paced_queue(template)
    assert mapping["FunctionName"] == {"Ref": functions["sms_sender"]}
    sender = _resources(template, "AWS::Lambda::Function")[functions["sms_sender"]]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * sender["Timeout"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] <= 10 and "MaximumBatchingWindowInSeconds" not in mapping
    assert 2 <= mapping["ScalingConfig"]["MaximumConcurrency"] <= 1000


def test_b8_a_queued_sms_that_keeps_failing_is_dead_lettered_and_kept_longer(template):
    """SQS: a message's expiry counts from when it was first queued, also in its dead-letter
    queue, so the dead-letter queue must keep messages longer than the queue does."""
    _, queue, dead_letters = _paced_queue(template)
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    assert queue["SqsManagedSseEnabled"] is True


def test_b8_the_sms_rate_is_a_deploy_parameter_every_sms_sender_reads(template):
    """AWS's default SMS quota is 20 message parts a second per account; a raised one is
    given at deploy time. Every function that sends SMS paces by it; the senders of
    planned messages can queue one (an answer to a patient's text leaves at once)."""
    parameter = _body(template)["Parameters"]["SmsPartsPerSecond"]
    assert parameter["Type"] == "Number" and parameter["Default"] == 20
    share = _body(template)["Parameters"]["SmsUrgentSharePercent"]  # D17: urgent SMS's lane
    assert (share["Type"], share["Default"], share["MinValue"], share["MaxValue"]) == ("Number", 30, 10, 90)
    functions = _function_logicals(template)
    mapping, _, _ = _paced_queue(template)
    queue_logical = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    for name in ("send_push", "sms_fallback", "sms_sender", "sms_replies"):
        variables = _resources(template, "AWS::Lambda::Function")[functions[name]]["Properties"]["Environment"][
            "Variables"
        ]
        assert variables["SMS_PARTS_PER_SECOND"] == {"Ref": "SmsPartsPerSecond"}, name
        assert variables["SMS_URGENT_SHARE_PERCENT"] == {"Ref": "SmsUrgentSharePercent"}, name
        assert variables["SMS_QUEUE_URL"] == {"Ref": queue_logical}, name
        sends = [
            s
            for s in _statements_of_role(template, _role_of(template, functions[name]))
            if "sqs:SendMessage" in _actions(s) and s["Resource"] == {"Fn::GetAtt": [queue_logical, "Arn"]}
        ]
        assert bool(sends) == (name != "sms_replies"), name


def test_b8_a_wait_is_never_longer_than_sqs_holds_a_message():
    """SQS holds a message back for at most 900 seconds (DelaySeconds 0 to 900)."""
    from notify.domain.sms_pacing import MAX_QUEUE_DELAY

    assert MAX_QUEUE_DELAY.total_seconds() == 900


# -- a practice leaves (D19) ---------------------------------------------------------------
def test_d19_a_closed_practice_is_erased_only_once_every_function_that_read_it_has_ended(template):
    """Lambda stops an invocation at its function's timeout, at most 900 s (Lambda's
    "Configure Lambda function timeout"). The erasure of a closed practice starts
    ERASE_AFTER the close: by then no invocation that read the profile before it closed
    is still running, so nothing writes for the practice after one sweep. Each of its
    runs stops after RUN_BUDGET_S, well within the planner's own timeout."""
    from notify.services.offboarding import ERASE_AFTER, RUN_BUDGET_S

    functions = _resources(template, "AWS::Lambda::Function")
    ours = _function_logicals(template)
    timeouts = {name: functions[logical]["Properties"]["Timeout"] for name, logical in ours.items()}
    assert ERASE_AFTER.total_seconds() >= 900 >= max(timeouts.values()), timeouts
    assert timeouts["schedule_reminder"] >= 2 * RUN_BUDGET_S

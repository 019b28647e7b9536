"""The local stack's changes to moto (local/moto_patches.py), each driven through AWS's own
APIs: if a patch stopped working, these fail before any product test misleads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import boto3
import pytest

from local import moto_patches
from local.ttl import LAG, TTL_IDENTITY

# A stream record of an item the callback reader does not deliver: handled, no failure.
UNRELATED_RECORD = {
    "Records": [
        {
            "eventID": "smoke",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "dynamodb": {
                "Keys": {"pk": {"S": "SMOKE#lambda"}, "sk": {"S": "one"}},
                "SequenceNumber": "1",
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
    ]
}


def test_emulator_refuses_a_moto_outside_the_supported_range():
    low, high = moto_patches.SUPPORTED
    assert moto_patches.check_version(".".join(map(str, low)))
    for outside in ("5.1.22", "5.2.4", ".".join(map(str, high))):
        with pytest.raises(moto_patches.EmulatorMismatch):
            moto_patches.check_version(outside)


def test_emulator_every_patch_is_in_place(local_stack):
    assert moto_patches.verify() == []
    assert moto_patches._preconditions() == []


def test_emulator_lambda_invokes_run_the_real_handler_in_process(local_stack):
    """Patch 1: a synchronous invoke runs our handler (moto alone would need Docker), an
    asynchronous one is queued and retried like Lambda's."""
    name = "practice_callback"
    before = local_stack.runtime.invocations[name]
    response = boto3.client("lambda").invoke(FunctionName=name, Payload=json.dumps(UNRELATED_RECORD))
    assert json.loads(response["Payload"].read()) == {"batchItemFailures": []}
    assert local_stack.runtime.invocations[name] == before + 1
    boto3.client("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(UNRELATED_RECORD))
    assert local_stack.router.async_invokes.pending()
    local_stack.router.settle()
    assert local_stack.runtime.invocations[name] == before + 2


def test_emulator_wait_states_wait_on_the_virtual_clock(local_stack, control):
    """Patch 2: an hour's Wait state takes no real time and ends when the clock passes it."""
    sfn = boto3.client("stepfunctions")
    definition = {
        "StartAt": "Hold",
        "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    machine = sfn.create_state_machine(
        name="local-stack-wait-smoke",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/smoke",
    )["stateMachineArn"]
    try:
        execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        control.advance(60)
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        control.advance(3600)
        assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)


def test_emulator_a_cancelled_transaction_writes_nothing_and_leaves_the_stream_as_it_was(local_stack):
    """Patch 4: the snapshot-and-restore of TransactWriteItems is all-or-nothing."""
    ddb = boto3.client("dynamodb")
    table = local_stack.table_name
    key = {"pk": {"S": "SMOKE#tx"}, "sk": {"S": "one"}}
    shard = _stream_length(local_stack)
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key, "entity": {"S": "smoke"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "SMOKE#tx"}, "sk": {"S": "absent"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert "Item" not in ddb.get_item(TableName=table, Key=key)
    assert _stream_length(local_stack) == shard
    ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": {**key, "entity": {"S": "smoke"}}}}]
    )
    assert "Item" in ddb.get_item(TableName=table, Key=key)
    ddb.delete_item(TableName=table, Key=key)


def test_emulator_ttl_deletes_expired_items_late_with_the_ttl_identity(local_stack, control):
    """DynamoDB's TTL process: not before the item's time plus the typical lag; the REMOVE
    record names the service (the planner ignores such deletions)."""
    ddb = boto3.client("dynamodb")
    key = {"pk": {"S": "SMOKE#ttl"}, "sk": {"S": "one"}}
    expires = int((control.now() + timedelta(hours=1)).timestamp())
    ddb.put_item(
        TableName=local_stack.table_name, Item={**key, "entity": {"S": "smoke"}, "expires_at": {"N": str(expires)}}
    )
    control.advance(2 * 3600)
    assert "Item" in ddb.get_item(TableName=local_stack.table_name, Key=key)  # expired, not yet deleted
    control.advance(LAG.total_seconds())
    assert "Item" not in ddb.get_item(TableName=local_stack.table_name, Key=key)
    (record,) = [r for r in local_stack.router.ttl.recent if r["dynamodb"]["Keys"]["pk"]["S"] == "SMOKE#ttl"]
    assert record["eventName"] == "REMOVE" and record["userIdentity"] == TTL_IDENTITY


def test_emulator_ttl_deletes_what_an_item_holds_when_it_is_due_not_what_it_once_held(local_stack, control):
    """The TTL process takes the next due item from a heap of every write (not a walk of
    the table each hour): an item whose time moved later stays until its new time, one
    whose time was removed stays, one deleted and written again goes at its new time, and
    a transaction refused leaves the item's time as it was."""
    ddb, table = boto3.client("dynamodb"), local_stack.table_name
    hour = int(control.now().timestamp()) + 3600
    keys = {
        name: {"pk": {"S": "SMOKE#ttl-heap"}, "sk": {"S": name}} for name in ("moved", "kept", "again", "kept2")
    }

    def put(name: str, expires: int | None) -> None:
        when = {"expires_at": {"N": str(expires)}} if expires is not None else {}
        ddb.put_item(TableName=table, Item={**keys[name], "entity": {"S": "smoke"}, **when})

    for name in keys:
        put(name, hour)
    later = hour + 5 * 3600
    ddb.update_item(
        TableName=table,
        Key=keys["moved"],
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues={":t": {"N": str(later)}},
    )
    ddb.update_item(TableName=table, Key=keys["kept"], UpdateExpression="REMOVE expires_at")
    ddb.delete_item(TableName=table, Key=keys["again"])
    put("again", later)
    refused = {
        "Update": {
            "TableName": table,
            "Key": keys["kept2"],
            "UpdateExpression": "SET expires_at = :never",
            "ExpressionAttributeValues": {":never": {"N": str(hour + 99 * 3600)}},
        }
    }
    failing = {
        "ConditionCheck": {
            "TableName": table,
            "Key": keys["kept"],
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(TransactItems=[refused, failing])

    def present() -> set[str]:
        return {name for name, key in keys.items() if "Item" in ddb.get_item(TableName=table, Key=key)}

    control.advance(3600 + LAG.total_seconds() + 3600)
    assert present() == {"moved", "kept", "again"}  # kept2's time stood: it went
    control.advance(5 * 3600)
    assert present() == {"kept"}
    ddb.delete_item(TableName=table, Key=keys["kept"])


def test_emulator_the_stream_poller_reads_what_get_records_returns(local_stack):
    """Lambda's poller (local/streams.py) reads the emulator's shard in-process instead of
    calling GetRecords: the records are the same, ApproximateCreationDateTime in epoch
    seconds as a Lambda event has it, each read a copy of its own."""
    from local.streams import StreamPoller

    ddb, streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
    key = {"pk": {"S": "SMOKE#poller"}, "sk": {"S": "one"}}
    ddb.put_item(TableName=local_stack.table_name, Item={**key, "n": {"N": "1"}, "tags": {"SS": ["a", "b"]}})
    ddb.update_item(
        TableName=local_stack.table_name,
        Key=key,
        UpdateExpression="SET n = :two, m = :m",
        ExpressionAttributeValues={":two": {"N": "2"}, ":m": {"M": {"x": {"BOOL": True}, "y": {"NULL": True}}}},
    )
    shard = _shard(local_stack)
    newest = _stream_length(local_stack) - 1
    mapping = local_stack.deployment.stream_mappings[0]
    iterator = streams.get_shard_iterator(
        StreamArn=mapping.stream_arn,
        ShardId=shard.id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=str(newest - 1),
    )["ShardIterator"]
    expected = streams.get_records(ShardIterator=iterator, Limit=2)["Records"]
    for record in expected:
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
        record["eventSourceARN"] = mapping.stream_arn
    poller = StreamPoller(local_stack.deployment, local_stack.runtime, lambda *_: None, {})
    poller._positions[(0, shard.id)] = str(newest - 2)
    _, last, records = poller._read(0, mapping)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records == expected
    assert last == expected[-1]["dynamodb"]["SequenceNumber"]
    # Each read is a copy: a handler that changes its event changes nobody else's.
    records[1]["dynamodb"]["NewImage"]["m"]["M"]["x"]["BOOL"] = False
    records[0]["dynamodb"]["NewImage"]["tags"]["SS"].append("c")
    _, _, again = poller._read(0, mapping)
    assert again == expected
    # A mapping's filters are applied to what it read: only what passes is copied and
    # delivered, and the position is the last record read.
    _, last, modified = poller._read(0, mapping, lambda record: record["eventName"] == "MODIFY")
    assert modified == expected[1:] and last == expected[-1]["dynamodb"]["SequenceNumber"]
    ddb.delete_item(TableName=local_stack.table_name, Key=key)


def test_emulator_a_query_finds_its_partitions_items_in_key_order(local_stack):
    """Patch 6: a query reads only its partition's items, in the table's key order, on
    the table and on an index, with conditions and filters as before."""
    ddb = boto3.client("dynamodb")
    table = local_stack.table_name

    def put(pk: str, sk: str, g: str) -> None:
        item = {"pk": {"S": pk}, "sk": {"S": sk}, "gsi1pk": {"S": g}, "gsi1sk": {"S": sk}, "v": {"N": sk[-1]}}
        ddb.put_item(TableName=table, Item=item)

    for pk, sk, g in [
        ("SMOKE#q1", "c3", "SMOKEG#1"),
        ("SMOKE#q1", "a1", "SMOKEG#2"),
        ("SMOKE#q2", "b2", "SMOKEG#1"),
    ]:
        put(pk, sk, g)
    put("SMOKE#q1", "b2", "SMOKEG#1")

    def sks(**query) -> list[str]:
        return [i["sk"]["S"] for i in ddb.query(TableName=table, **query)["Items"]]

    assert sks(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "SMOKE#q1"}}) == [
        "a1",
        "b2",
        "c3",
    ]
    assert sks(
        KeyConditionExpression="pk = :p AND sk > :s",
        ExpressionAttributeValues={":p": {"S": "SMOKE#q1"}, ":s": {"S": "a1"}},
        ScanIndexForward=False,
    ) == ["c3", "b2"]
    by_index = ddb.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :g",
        FilterExpression="v > :one",
        ExpressionAttributeValues={":g": {"S": "SMOKEG#1"}, ":one": {"N": "1"}},
    )["Items"]
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in by_index] == [
        ("SMOKE#q1", "b2"),
        ("SMOKE#q2", "b2"),
        ("SMOKE#q1", "c3"),
    ]
    assert sks(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "SMOKE#none"}}) == []
    for pk, sk in [("SMOKE#q1", "a1"), ("SMOKE#q1", "b2"), ("SMOKE#q1", "c3"), ("SMOKE#q2", "b2")]:
        ddb.delete_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})


def test_emulator_an_index_query_follows_every_write(local_stack):
    """Patch 6: an index partition is found through a map kept in step with the writes; an
    item moved to another index key (UpdateItem), deleted, or touched by a cancelled
    transaction is found where a walk of the whole table finds it."""
    from botocore.exceptions import ClientError

    ddb = boto3.client("dynamodb")
    table = local_stack.table_name

    def key(sk: str) -> dict:
        return {"pk": {"S": "SMOKE#ix"}, "sk": {"S": sk}}

    def by_index(g: str) -> list[str]:
        found = ddb.query(
            TableName=table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :g",
            ExpressionAttributeValues={":g": {"S": g}},
        )["Items"]
        pages = ddb.get_paginator("scan").paginate(  # a page stops at 1 MB: the table is shared
            TableName=table, FilterExpression="gsi1pk = :g", ExpressionAttributeValues={":g": {"S": g}}
        )
        walked = [item for page in pages for item in page["Items"]]
        assert sorted(i["sk"]["S"] for i in found) == sorted(i["sk"]["S"] for i in walked)
        return [i["sk"]["S"] for i in found]

    for sk in ("a", "b", "c"):
        ddb.put_item(TableName=table, Item={**key(sk), "gsi1pk": {"S": "SMOKEIX#1"}, "gsi1sk": {"S": sk}})
    assert by_index("SMOKEIX#1") == ["a", "b", "c"]
    ddb.update_item(
        TableName=table,
        Key=key("b"),
        UpdateExpression="SET gsi1pk = :g",
        ExpressionAttributeValues={":g": {"S": "SMOKEIX#2"}},
    )
    ddb.put_item(TableName=table, Item=key("c"))  # replaced without an index key
    assert by_index("SMOKEIX#1") == ["a"]
    assert by_index("SMOKEIX#2") == ["b"]
    with pytest.raises(ClientError):  # the second write is refused: the first is undone
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key("a"), "gsi1pk": {"S": "SMOKEIX#2"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**key("d"), "gsi1pk": {"S": "SMOKEIX#2"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert by_index("SMOKEIX#1") == ["a"]
    assert by_index("SMOKEIX#2") == ["b"]
    ddb.delete_item(TableName=table, Key=key("a"))
    assert by_index("SMOKEIX#1") == []
    for sk in ("b", "c"):
        ddb.delete_item(TableName=table, Key=key(sk))


def _shard(local_stack):
    from moto.dynamodb.models import dynamodb_backends

    from local.deploy import ACCOUNT, REGION

    return dynamodb_backends[ACCOUNT][REGION].tables[local_stack.table_name].stream_shard


def _stream_length(local_stack) -> int:
    shard = _shard(local_stack)
    return shard.starting_sequence_number + len(shard.items)


def test_emulator_sqs_delays_and_visibility_run_on_the_virtual_clock(local_stack, control):
    """Patch 7: a message held back two minutes shows two virtual minutes later, and one
    received and not deleted shows again once its visibility timeout has passed."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="smoke-delays", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=120)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    control.advance(119)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    control.advance(2)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert message["Body"] == "later"
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # in flight
    control.advance(31)
    (again,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    sqs.delete_queue(QueueUrl=url)


def test_emulator_sdk_calls_in_this_process_skip_the_socket_but_not_the_layers(local_stack, control, monkeypatch):
    """The in-process transport (emulator.InProcessTransport): no socket is opened for an
    SDK call to the emulator, the WSGI layers still apply (a service the B8 drill took down
    answers the injected error), and another process still reaches it over HTTP."""
    import os
    import subprocess
    import sys

    import urllib3
    from botocore.exceptions import ClientError

    emulator_port = int(os.environ["MOTO_PORT"])
    urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen

    def no_socket_to_the_emulator(pool, *args, **kwargs):
        assert pool.port != emulator_port, "an SDK call to the emulator opened a connection"
        return urlopen(pool, *args, **kwargs)

    monkeypatch.setattr(urllib3.connectionpool.HTTPConnectionPool, "urlopen", no_socket_to_the_emulator)
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="smoke-transport")["TopicArn"]
    try:
        control.faults(down=["sns"])
        with pytest.raises(ClientError) as refused:
            boto3.client("sns", config=botocore_config()).publish(TopicArn=topic, Message="down")
        assert "injected" in refused.value.response["Error"]["Message"]
    finally:
        control.faults()
    assert sns.publish(TopicArn=topic, Message="up")["MessageId"]
    monkeypatch.undo()
    elsewhere = subprocess.run(
        [sys.executable, "-c", "import boto3; print(len(boto3.client('sns').list_topics()['Topics']))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert int(elsewhere.stdout) >= 1
    sns.delete_topic(TopicArn=topic)


def botocore_config():
    from botocore.config import Config

    return Config(retries={"max_attempts": 1, "mode": "standard"})


def test_emulator_a_send_does_not_count_the_messages_the_queue_holds(local_stack, monkeypatch):
    """Patch 10: SendMessage built every attribute of the queue (three counts, each a walk
    over its messages) to read one a standard queue does not have; now it builds none,
    and the queue's attributes still count what it holds."""
    from moto.sqs import models

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="smoke-backlog")["QueueUrl"]
    for body in "abcde":
        sqs.send_message(QueueUrl=url, MessageBody=body, DelaySeconds=60)
    counted = []
    walk = models.Queue.approximate_number_of_messages_delayed
    monkeypatch.setattr(
        models.Queue,
        "approximate_number_of_messages_delayed",
        property(lambda queue: counted.append(queue.name) or walk.fget(queue)),
    )
    sqs.send_message(QueueUrl=url, MessageBody="now")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "one"}])
    assert counted == []
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counted, "the queue's attributes no longer count"
    assert (attributes["ApproximateNumberOfMessagesDelayed"], attributes["ApproximateNumberOfMessages"]) == (
        "5",
        "2",
    )
    sqs.delete_queue(QueueUrl=url)


def test_emulator_the_dispatcher_does_not_list_moto_from_disk_per_request(local_stack, monkeypatch):
    """Patch 8: the server's dispatcher found the service packages with a listdir and an
    isdir per package on every request; now the list is taken once, and answers the same."""
    import os

    import moto

    package = os.path.dirname(moto.__file__)
    listed = []
    original = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": listed.append(path) or original(path))
    assert "dynamodb" in moto.backends.list_of_moto_modules()
    assert boto3.client("dynamodb").describe_table(TableName=local_stack.table_name)["Table"]["TableName"]
    assert package not in listed


def test_emulator_the_scheduler_fires_what_is_true_when_it_is_due(local_stack, control, monkeypatch):
    """Patch 9: the local scheduler hears of every schedule created or updated and keeps
    the next due at the head of a heap. A schedule fires once, at its latest time; one
    moved later fires then, one deleted never, one deleted and created again under its
    name fires at its new time only."""
    schedules = local_stack.router.schedules
    fired: list[tuple[str, datetime]] = []
    enqueue = schedules.enqueue

    def capture(function: str, event: dict) -> None:
        if str(event.get("smoke", "")).startswith("p9-"):
            fired.append((event["smoke"], control.now()))
        else:
            enqueue(function, event)

    monkeypatch.setattr(schedules, "enqueue", capture)
    scheduler = boto3.client("scheduler")
    group = local_stack.deployment.schedule_groups[0]
    target_arn = local_stack.deployment.functions["send_push"].arn
    start = control.now().replace(microsecond=0)

    def at(minutes: int) -> str:
        return f"at({(start + timedelta(minutes=minutes)).replace(tzinfo=None).isoformat()})"

    def create(name: str, minutes: int) -> None:
        scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=at(minutes),
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": target_arn,
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "Input": json.dumps({"smoke": name}),
            },
            ActionAfterCompletion="DELETE",
        )

    create("p9-once", 2)
    create("p9-moved", 1)
    scheduler.update_schedule(
        Name="p9-moved",
        GroupName=group,
        ScheduleExpression=at(3),
        State="ENABLED",  # as the product passes it: moto leaves a missing State empty
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": target_arn,
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": json.dumps({"smoke": "p9-moved"}),
        },
    )
    create("p9-deleted", 1)
    scheduler.delete_schedule(Name="p9-deleted", GroupName=group)
    create("p9-again", 1)
    scheduler.delete_schedule(Name="p9-again", GroupName=group)
    create("p9-again", 4)
    control.advance(5 * 60)
    assert [(name, moment - start) for name, moment in fired] == [
        ("p9-once", timedelta(minutes=2)),
        ("p9-moved", timedelta(minutes=3)),
        ("p9-again", timedelta(minutes=4)),
    ]


def test_emulator_a_fired_schedule_is_deleted_by_aws_not_through_our_faults(local_stack, control, monkeypatch):
    """After completion AWS deletes a one-shot schedule itself: the stack deletes it in
    the emulator's backend, so a drill throttling our scheduler calls (B8) neither stops
    it nor fails the clock (it did, one firing in a thousand, at 10%)."""
    schedules = local_stack.router.schedules
    fired: list[str] = []
    enqueue = schedules.enqueue

    def capture(function: str, event: dict) -> None:
        if event.get("smoke") == "drill-delete":
            fired.append(event["smoke"])
        else:
            enqueue(function, event)

    monkeypatch.setattr(schedules, "enqueue", capture)
    group = local_stack.deployment.schedule_groups[0]
    due = (control.now() + timedelta(minutes=1)).replace(microsecond=0, tzinfo=None)
    boto3.client("scheduler").create_schedule(
        Name="drill-delete",
        GroupName=group,
        ScheduleExpression=f"at({due.isoformat()})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": local_stack.deployment.functions["send_push"].arn,
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": json.dumps({"smoke": "drill-delete"}),
        },
        ActionAfterCompletion="DELETE",
    )
    try:
        control.faults(down=["scheduler"])
        control.advance(120)
    finally:
        control.faults()
    assert fired == ["drill-delete"]
    assert "drill-delete" not in control.schedules("drill-")


def test_emulator_responses_are_the_same_with_candidate_keys_kept(local_stack, monkeypatch):
    """Patch 11: a member of a plain dict is found through candidate keys kept per member
    shape instead of six alias rules worked out again per value. Every answer below, an
    item with every attribute type through each read and write that returns one, a table
    description, a schedule and a queue's attributes, is the same as moto's own."""
    from moto.core import serialize

    dynamodb, table = boto3.client("dynamodb"), local_stack.table_name
    key = {"pk": {"S": "SMOKE#p11"}, "sk": {"S": "every-type"}}
    item = {
        **key,
        "s": {"S": "Zofia"},
        "n": {"N": "12.5"},
        "b": {"B": b"\x00\x01binary"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"x", b"y"]},
        "m": {"M": {"deep": {"M": {"l": {"L": [{"S": "one"}, {"N": "2"}, {"NULL": True}, {"BOOL": False}]}}}}},
        "null": {"NULL": True},
        "bool": {"BOOL": True},
    }
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="smoke-p11")["QueueUrl"]
    group = local_stack.deployment.schedule_groups[0]

    def answers() -> list[dict]:
        dynamodb.put_item(TableName=table, Item=item)
        said = [
            dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True),
            dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            ),
            dynamodb.query(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": key["pk"]},
                ReturnConsumedCapacity="TOTAL",
            ),
            dynamodb.batch_get_item(RequestItems={table: {"Keys": [key, {**key, "sk": {"S": "absent"}}]}}),
            dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD"),
            dynamodb.describe_table(TableName=table),
            boto3.client("scheduler").list_schedules(GroupName=group, MaxResults=5),
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        ]
        for answer in said:
            answer.pop("ResponseMetadata")
        return said

    moto_patches._CANDIDATES.clear()
    patched = answers()
    assert moto_patches._CANDIDATES, "no candidate keys were kept"
    own = serialize.ResponseSerializer.get_value._original
    monkeypatch.setattr(serialize.ResponseSerializer, "get_value", own)
    assert answers() == patched
    assert patched[0]["Item"]["m"]["M"]["deep"]["M"]["l"]["L"][2] == {"NULL": True}
    assert patched[1]["Attributes"]["n"] == {"N": "13.5"}
    sqs.delete_queue(QueueUrl=url)


def test_emulator_an_action_is_found_as_moto_lists_it(local_stack):
    """Patch 12: whether a request's action is a function of its handler class is asked of
    the class directly, not by listing its members per request. For every handler class
    moto has loaded, every name it has answers as moto's own listing does."""
    from moto.core import utils
    from moto.core.responses import BaseResponse

    def handlers(cls: type) -> list[type]:
        return [cls, *(c for sub in cls.__subclasses__() for c in handlers(sub))]

    classes = handlers(BaseResponse)
    assert len(classes) > 5
    for cls in classes:
        listed = set(utils.method_names_from_class(cls))
        found = moto_patches._FunctionNames(cls)
        assert {name for name in dir(cls) if name in found} == listed, cls
    dynamodb = boto3.client("dynamodb")
    assert dynamodb.describe_table(TableName=local_stack.table_name)["Table"]["TableName"]


def test_emulator_updates_parse_each_expression_once_and_validate_a_copy(local_stack, monkeypatch):
    """Patch 13: an update expression is parsed once per text, and UpdateItem's validator
    works on a copy of that tree made from its nodes' fields instead of a deep copy. Every
    update below, on an item and on a missing one (validated twice), and every refusal,
    answers as with moto's deep copy; the tree kept for a text is the one parsed for it
    again, unchanged by all the updates it served."""
    import copy

    from botocore.exceptions import ClientError
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer

    dynamodb, table = boto3.client("dynamodb"), local_stack.table_name
    start = {"n": {"N": "1"}, "s": {"S": "x"}, "l": {"L": [{"S": "a"}]}, "ss": {"SS": ["a", "b"]}, "m": {"M": {}}}
    updates = [
        ("SET n = n + :one, l = list_append(l, :more), m.k = :s REMOVE s", {":one": {"N": "1"}}),
        ("SET f = if_not_exists(f, :s) ADD n :one, ss :set DELETE ss :gone", {":one": {"N": "2"}}),
        ("SET n = :s, n = :one", {":one": {"N": "1"}}),  # the same path twice: refused
        ("SET m.k = :s, m = :s", {}),  # overlapping paths: refused
        ("ADD s :one", {":one": {"N": "1"}}),  # a number added to a string: refused
        ("SET pk = :s", {}),  # the key: refused
        ("SET n = :missing", {}),  # an undefined value: refused
    ]
    values = {":more": {"L": [{"S": "b"}]}, ":s": {"S": "v"}, ":set": {"SS": ["c"]}, ":gone": {"SS": ["a"]}}

    def answers() -> list[object]:
        said: list[object] = []
        for n, fresh_item in enumerate((True, False)):
            key = {"pk": {"S": "SMOKE#p13"}, "sk": {"S": f"item-{n}"}}
            dynamodb.delete_item(TableName=table, Key=key)
            if fresh_item:
                dynamodb.put_item(TableName=table, Item={**key, **start})
            for expression, own_values in updates:
                used = {k: v for k, v in {**values, **own_values}.items() if k in expression}
                try:
                    answer = dynamodb.update_item(
                        TableName=table,
                        Key=key,
                        UpdateExpression=expression,
                        **({"ExpressionAttributeValues": used} if used else {}),
                        ReturnValues="ALL_NEW",
                    )
                    said.append(answer["Attributes"])
                except ClientError as refused:
                    said.append((refused.response["Error"]["Code"], refused.response["Error"]["Message"]))
                if not fresh_item:  # each update on a missing item
                    dynamodb.delete_item(TableName=table, Key=key)
        return said

    patched = answers()

    def shape(node: object) -> object:
        children = getattr(node, "children", None)
        if children is None:
            return node if isinstance(node, str | int) else type(node).__name__
        return (type(node).__name__, tuple(shape(c) for c in children))

    for expression, _ in updates:
        kept = UpdateExpressionParser.make(expression)
        assert UpdateExpressionParser.make(expression) is kept  # parsed once
        parsed_now = UpdateExpressionParser(ExpressionTokenizer.make_list(expression)).parse()
        assert shape(kept) == shape(parsed_now)  # as parsed: no update changed it
    assert validators.deepcopy is not copy.deepcopy
    monkeypatch.setattr(validators, "deepcopy", copy.deepcopy)
    assert answers() == patched
    assert patched[0]["n"] == {"N": "2"} and patched[0]["l"]["L"] == [{"S": "a"}, {"S": "b"}]
    assert sum(isinstance(answer, tuple) for answer in patched) >= 8, patched


def test_emulator_moto_answers_the_same_without_flask(local_stack, monkeypatch):
    """Patch 14: moto's view is called directly, without Flask around it. The answers of
    each protocol we use (DynamoDB's and Scheduler's JSON, SNS's XML, SQS's) and of errors
    (a missing table, schedule or queue) are the same as through moto's Flask app, and
    Flask is entered only on the way that goes through it."""
    import flask
    from botocore.exceptions import ClientError
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from local.emulator import DirectDispatcher

    entered: list[str] = []
    wsgi_app = flask.Flask.wsgi_app

    def counting(app, environ, start_response):
        entered.append(environ.get("PATH_INFO", ""))
        return wsgi_app(app, environ, start_response)

    monkeypatch.setattr(flask.Flask, "wsgi_app", counting)
    dynamodb, table = boto3.client("dynamodb"), local_stack.table_name
    scheduler, sns, sqs = boto3.client("scheduler"), boto3.client("sns"), boto3.client("sqs")
    group = local_stack.deployment.schedule_groups[0]
    key = {"pk": {"S": "SMOKE#p14"}, "sk": {"S": "one"}}

    def answers() -> list[object]:
        calls = [
            lambda: dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "1"}}),
            lambda: dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            ),
            lambda: dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True),
            lambda: dynamodb.get_item(TableName="no-such-table", Key=key),
            lambda: scheduler.list_schedules(GroupName=group, MaxResults=5),
            lambda: scheduler.get_schedule(Name="no-such-schedule", GroupName=group),
            lambda: sns.get_topic_attributes(TopicArn=sns.create_topic(Name="smoke-p14")["TopicArn"]),
            lambda: sqs.get_queue_attributes(
                QueueUrl=sqs.create_queue(QueueName="smoke-p14")["QueueUrl"], AttributeNames=["QueueArn"]
            ),
            lambda: sqs.get_queue_url(QueueName="no-such-queue"),
            lambda: dynamodb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD"),
        ]
        said: list[object] = []
        for call in calls:
            try:
                answer = call()
                answer.pop("ResponseMetadata")
                said.append(answer)
            except ClientError as error:
                said.append(
                    (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"])
                )
        return said

    direct = answers()
    assert entered == [], entered
    assert direct[1]["Attributes"]["n"] == {"N": "2"} and direct[3][0] == "ResourceNotFoundException"
    monkeypatch.setattr(DirectDispatcher, "__call__", DomainDispatcherApplication.__call__)
    through_flask = answers()
    assert entered and through_flask == direct


def test_local_api_keeps_a_clients_connection_open_between_requests(local_stack):
    """The local API answers on one connection request after request (HTTP/1.1 keep-alive,
    as API Gateway does): werkzeug's development server closed it after every answer, so
    each request paid a connect and a new server thread."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(local_stack.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request("GET", "/_local/clock")
        first = connection.getresponse()
        assert first.status == 200 and json.loads(first.read())["now"]
        socket = connection.sock
        assert socket is not None and not first.will_close
        connection.request("POST", f"/{local_stack.deployment.stage}/practices/nobody/events", body=b"{}")
        second = connection.getresponse()
        assert second.status in (400, 401, 404) and second.read()
        assert connection.sock is socket  # the same connection answered both
    finally:
        connection.close()

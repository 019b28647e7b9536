"""Put dead-lettered work back (B8), the same command on AWS and on the local stack.

    python -m ops.redrive SendFailures                  # failed async sends -> send_push
    python -m ops.redrive ScheduleFailures --function <send_push ARN>
    python -m ops.redrive StreamFailures
    python -m ops.redrive SmsFailures                   # paced SMS that failed -> PacedSms
    python -m ops.redrive Escalations                   # failed escalation executions

What each dead-letter queue holds, and how it goes back:
- SendFailures: Lambda's on-failure record of an async invoke (`requestPayload`,
  `requestContext.functionArn`): the payload is invoked again on that function.
- ScheduleFailures: the schedule's target input, as Scheduler dead-letters it: invoked on
  `--function` (send_push).
- StreamFailures: the stream batch's shard and sequence range and its function: the
  records are read back from the stream (24h retention) and handed to it as a batch.
- SmsFailures: a paced SMS (D17) that failed its five tries: it goes back into the
  PacedSms queue as it was, and leaves at once if it is still wanted (its moment passed).
- Escalations: not a queue. An escalation execution that failed after its task's
  retries (alarm EscalationsFailed) is started again with the same input, named
  `<name>-r<n>`; a failed execution with a successor is not started twice. A fresh
  start (rather than Step Functions' RedriveExecution, which resumes at the failed
  task) reads the appointment again, so a patient who answered meanwhile gets no SMS.

Every handler is idempotent (ledger claims, conditional writes), so redriving something
that did get through in the end sends nothing twice. A message is deleted from its queue
only after its work was handed over.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import boto3


def _the_one(what: str, name: str, found: list[str]) -> str:
    """CDK names resources with a prefix and a suffix: exactly one must contain `name`."""
    if len(found) != 1:
        raise SystemExit(f"expected one {what} matching {name!r}, found {found}")
    return found[0]


def queue_url(sqs: Any, name: str) -> str:
    """The URL of the queue whose name contains `name`."""
    if name.startswith("https://") or name.startswith("http://"):
        return name
    return _the_one(
        "queue", name, [u for u in sqs.list_queues().get("QueueUrls", []) if name in u.rsplit("/", 1)[-1]]
    )


def _stream_records(info: dict[str, Any]) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end = int(info["endSequenceNumber"])
    records: list[dict[str, Any]] = []
    while iterator:
        response = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in response["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return records
            records.append({**record, "eventSourceARN": info["streamArn"]})
        if not response["Records"]:
            break
        iterator = response.get("NextShardIterator")
    return records


def work_of(body: dict[str, Any], function: str | None) -> tuple[str, dict[str, Any]]:
    """(function, payload) that redoes the dead-lettered work described by `body`."""
    context = body.get("requestContext") or {}
    if "requestPayload" in body:
        return context["functionArn"], body["requestPayload"]
    target = context.get("functionArn") or function
    if target is None:
        raise SystemExit("--function is needed for this queue")
    if "DDBStreamBatchInfo" in body:
        return target, {"Records": _stream_records(body["DDBStreamBatchInfo"])}
    return target, body


# Dead-letter queue -> the queue its messages go back into (not a function's invoke).
BACK_INTO = {"SmsFailures": "PacedSms"}


def redrive(queue: str, function: str | None = None, limit: int = 10_000) -> int:
    """Hand every message of `queue` back to its function (or its source queue); returns
    how many."""
    sqs, lambda_ = boto3.client("sqs"), boto3.client("lambda")
    url = queue_url(sqs, queue)
    source = next((queue_url(sqs, back) for dlq, back in BACK_INTO.items() if dlq in url.rsplit("/", 1)[-1]), None)
    done = 0
    while done < limit:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            if source is not None:
                sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
            else:
                target, payload = work_of(json.loads(message["Body"]), function)
                lambda_.invoke(
                    FunctionName=target, InvocationType="Event", Payload=json.dumps(payload, default=str).encode()
                )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            done += 1
    return done


ESCALATIONS = "Escalations"
_ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")


def _state_machine_arn(sfn: Any, name: str) -> str:
    return _the_one(
        "state machine",
        name,
        [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if name in m["name"]],
    )


def successor_name(name: str) -> str:
    """`abc` -> `abc-r1`, `abc-r1` -> `abc-r2` (execution names are unique for 90 days)."""
    base, _, attempt = name.rpartition("-r")
    if base and attempt.isdigit():
        return f"{base}-r{int(attempt) + 1}"
    return f"{name}-r1"


def redrive_escalations(state_machine: str = "Escalation") -> int:
    """Start again every failed escalation that has not been started again; returns how many."""
    sfn = boto3.client("stepfunctions")
    arn = _state_machine_arn(sfn, state_machine)
    executions = [
        e
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
        for e in page["executions"]
    ]
    names = {e["name"] for e in executions}
    done = 0
    for execution in executions:
        successor = successor_name(execution["name"])
        if execution["status"] not in _ENDED_BADLY or successor in names:
            continue
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        try:
            sfn.start_execution(stateMachineArn=arn, name=successor, input=described["input"])
        except sfn.exceptions.ExecutionAlreadyExists:
            continue
        names.add(successor)
        done += 1
    return done


def depth(queue: str) -> int:
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url(sqs, queue), AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "queue",
        help="queue URL or a part of its name, e.g. SendFailures; "
        f"or {ESCALATIONS} for failed escalation executions",
    )
    parser.add_argument("--function", help="target for schedule / stream failures")
    args = parser.parse_args(argv)
    if args.queue == ESCALATIONS:
        print(f"escalations started again: {redrive_escalations()}")
        return
    print(f"redriven: {redrive(args.queue, args.function)}")


if __name__ == "__main__":
    main()

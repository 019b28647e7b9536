"""AWS requests per appointment lifecycle, counted on the local stack, and local throughput.

Every botocore call a handler makes is counted (BaseClient._make_api_call while a handler
runs); the router's own polling is not AWS work and is not counted.
"""

from __future__ import annotations

import random
import resource
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

_in_handler = threading.local()
CALLS: Counter[str] = Counter()
DURATIONS: list[float] = []
INVOCATIONS: Counter[str] = Counter()
BY_FUNCTION: Counter[str] = Counter()  # the requests each function made
# Thread CPU seconds the handlers' AWS calls took in the SDK and the emulator (both run in
# the calling thread: the in-process transport), without any handler a call ran inside it.
SDK_CPU: list[float] = [0.0]
# The requests made for rules that the design minimum (bench/__main__.py) does not count:
# it was counted before they were specified.
LATER_RULES: Counter[str] = Counter()


def later_rule(service: str, operation: str, params: dict[str, Any]) -> str | None:
    """The rule a request is made for, when the design minimum does not count that rule."""
    key = params.get("Key") or {}
    pk, sk = key.get("pk", {}).get("S", ""), key.get("sk", {}).get("S", "")
    names = set((params.get("ExpressionAttributeNames") or {}).values())
    if service == "kms":
        return {"GenerateMac": "P3 link token MAC", "Decrypt": "P3 practice secret"}.get(operation)
    if (service, operation) == ("sns", "CreatePlatformEndpoint") or (
        operation == "UpdateItem" and sk.startswith("PATIENT#") and "push_endpoint" in names
    ):
        return "C3 device endpoint, first push"
    if operation == "UpdateItem" and pk.startswith("OUTCOMES#"):
        return "A1/K6 counters"
    if operation == "GetItem" and pk.startswith("CONSENT#"):
        return "T2 SMS consent"
    if operation == "TransactWriteItems":
        items = [next(iter(i.values())) for i in params.get("TransactItems", [])]
        if items and all(i.get("Key", {}).get("pk", {}).get("S", "").startswith("CAP#") for i in items):
            return "R11 caps"
    if (service, operation) == ("scheduler", "CreateSchedule") and ".settle." in params.get("Name", ""):
        return "B9 settle schedule"
    return None


def _instrument(stack: Any) -> None:
    import botocore.client

    original_call = botocore.client.BaseClient._make_api_call
    if not getattr(original_call, "_bench", False):

        def counting(self: Any, operation: str, params: dict) -> Any:
            if not getattr(_in_handler, "active", False):
                return original_call(self, operation, params)
            service = self.meta.service_model.service_name
            CALLS[f"{service}.{operation}"] += 1
            BY_FUNCTION[_in_handler.function] += 1
            rule = later_rule(service, operation, params)
            if rule:
                LATER_RULES[rule] += 1
            if getattr(_in_handler, "calling", False):  # made inside a call: timed with it
                return original_call(self, operation, params)
            _in_handler.calling, _in_handler.nested = True, 0.0
            started = time.thread_time()
            try:
                return original_call(self, operation, params)
            finally:
                SDK_CPU[0] += time.thread_time() - started - _in_handler.nested
                _in_handler.calling = False

        counting._bench = True  # type: ignore[attr-defined]
        botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
    runtime = stack.runtime
    if getattr(runtime.invoke, "_bench", False):
        return
    invoke = runtime.invoke

    def timed(name: str, event: dict) -> Any:
        outer = getattr(_in_handler, "active", False), getattr(_in_handler, "calling", False)
        function = getattr(_in_handler, "function", None)
        _in_handler.active, _in_handler.calling, _in_handler.function = True, False, name
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return invoke(name, event)
        finally:
            DURATIONS.append(time.perf_counter() - started)
            INVOCATIONS[name] += 1
            _in_handler.active, _in_handler.calling = outer
            _in_handler.function = function
            if outer[1]:  # invoked inside a call: its time is the handler's, not the SDK's
                _in_handler.nested += time.thread_time() - cpu

    timed._bench = True  # type: ignore[attr-defined]
    runtime.invoke = timed


def _reset() -> None:
    CALLS.clear()
    LATER_RULES.clear()
    BY_FUNCTION.clear()
    SDK_CPU[0] = 0.0
    DURATIONS.clear()
    INVOCATIONS.clear()


@contextmanager
def outcome_writes() -> Iterator[Counter[str]]:
    """Count the A1 and K6 counter updates the handlers make (they run in this process):
    `UPDATES` the updates, and each counter they add to: what the statistics cost."""
    from notify.dal import outcomes

    counted: Counter[str] = Counter()
    original = outcomes.count

    def count(
        practice_id: str, day: str, calendar_id: str, fill_minutes: float | None = None, **increments: int
    ) -> None:
        counted[UPDATES] += 1
        counted.update(k for k, v in increments.items() if v)
        original(practice_id, day, calendar_id, fill_minutes, **increments)

    outcomes.count = count  # type: ignore[assignment]
    try:
        yield counted
    finally:
        outcomes.count = original  # type: ignore[assignment]


UPDATES = "(updates)"


def lifecycles(stack: Any) -> dict[str, dict[str, Any]]:
    """Three lifecycles: remind-escalate-confirm, the visit's outcome, and
    cancel-refill-move."""
    from local.client import LocalControl, PatientBrowser, PracticeClient
    from ops.practice import onboard

    _instrument(stack)
    control, browser = LocalControl(stack.url), PatientBrowser(stack.api_url)
    app = {
        "has_app": True,
        "push_enabled": True,
        "device_token": "d",
        "platform": "android",
        "phone": "601 234 567",
    }
    results = {}

    def practice(pid: str) -> PracticeClient:
        credentials = onboard(
            pid, name="Bench", timezone="Europe/Warsaw", country="PL", booking_url="https://b.example"
        )
        return PracticeClient(stack.api_url, credentials, control)

    def noon(days: int) -> datetime:
        now = control.now()
        return datetime(now.year, now.month, now.day, 11, 0, tzinfo=UTC) + timedelta(days=days)

    pms = practice("bench-remind")
    pms.send("patient.upserted", {"patient_id": "p", **app})
    _reset()
    start = noon(5)
    pms.send(
        "appointment.created",
        {
            "appointment_id": "a",
            "patient_id": "p",
            "source": "app",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        },
    )
    control.advance_to(start - timedelta(hours=45))
    browser.follow(control.outbox("bench-remind")[0]["link"], "confirm")
    control.advance(0)
    results["book, confirm push, remind push, escalate SMS, confirm"] = _snapshot(control, 1)
    control.advance_to(start + timedelta(hours=1))  # the visit is over
    _reset()
    pms.send("appointment.attended", {"appointment_id": "a"})
    control.advance(120)
    results["the visit: attended, a prompt to book again planned"] = _snapshot(control, 1)

    pms = practice("bench-refill")
    for pid in ("a", "b"):
        pms.send("patient.upserted", {"patient_id": pid, **app})
    pms.send(
        "appointment.created",
        {
            "appointment_id": "a",
            "patient_id": "a",
            "source": "app",
            "start": noon(4).isoformat(),
            "end": (noon(4) + timedelta(minutes=30)).isoformat(),
        },
    )
    control.advance(120)  # a's booking settles (B9): its slot is on the calendar
    _reset()
    pms.send(
        "appointment.created",
        {
            "appointment_id": "b",
            "patient_id": "b",
            "source": "app",
            "start": noon(9).isoformat(),
            "end": (noon(9) + timedelta(minutes=30)).isoformat(),
        },
    )
    pms.send("appointment.cancelled", {"appointment_id": "a"})
    control.advance(120)  # the cancellation settles (B9): the slot is offered
    offer = [r for r in control.outbox("bench-refill") if r["kind"] == "slot_offer"][0]
    browser.http.post(offer["link"], timeout=60)
    control.advance(120)  # the move settles (B9): its reschedule notice, the slot it left
    results["book, cancel (practice), offer, accept, move"] = _snapshot(control, 1)
    return results


def _snapshot(control: Any, appointments: int) -> dict[str, Any]:
    return {
        "calls": dict(CALLS),
        "invocations": dict(INVOCATIONS),
        "by_function": dict(BY_FUNCTION),
        "later_rules": dict(LATER_RULES),
        "handler_seconds": sum(DURATIONS),
        "appointments": appointments,
    }


def busy_week(stack: Any, practices: int, appointments: int, cancel_ratio: float, seed: int = 7) -> dict[str, Any]:
    """Webhook -> stream -> schedules for many appointments, then a simulated week."""
    from local.client import LocalControl, PracticeClient
    from ops.practice import onboard

    rng = random.Random(seed)
    control = LocalControl(stack.url)
    clients = []
    for i in range(practices):
        pid = f"busy-{i}"
        # A busy practice's plan carries enough SMS for its week (the default quota of 50
        # a month, C7, would skip most of them and leave the week's work undone).
        quota = max(50, 10 * appointments // practices)
        credentials = onboard(pid, name=f"Practice {i}", timezone="Europe/Warsaw", country="PL", sms_quota=quota)
        # The PMS reads the virtual clock directly: over the control API, a round trip per
        # event was 7% of intake, the load's cost rather than the pipeline's.
        clients.append(PracticeClient(stack.api_url, credentials, control, clock=stack.clock.now))
    patients = 0
    for client in clients:
        for j in range(max(1, appointments // practices // 2)):
            # Each patient their own number (one shared number would group every reminder
            # of the day into one message, R11, and make the week a family's).
            client.send("patient.upserted", {"patient_id": f"p{j}", "phone": f"601 {200000 + j:06d}"})
            patients += 1
    _instrument(stack)
    _reset()
    started = time.perf_counter()
    booked = []
    now = control.now()
    for n in range(appointments):
        client = clients[n % practices]
        start = now + timedelta(hours=rng.randint(40, 7 * 24))
        client.send(
            "appointment.created",
            {
                "appointment_id": f"a{n}",
                "patient_id": f"p{rng.randrange(max(1, patients // practices))}",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=20)).isoformat(),
                "source": "portal",
            },
        )
        booked.append((client, f"a{n}"))
    intake = time.perf_counter() - started
    intake_calls, intake_sdk_cpu = Counter(CALLS), SDK_CPU[0]
    for client, appointment in rng.sample(booked, int(len(booked) * cancel_ratio)):
        client.send("appointment.cancelled", {"appointment_id": appointment})
    week_started = time.perf_counter()
    for _ in range(7):  # a day per call: a large week's day takes minutes (the control API's timeout is 600 s)
        control.advance(24 * 3600)
    week = time.perf_counter() - week_started
    sent = len(control.outbox())
    total = sum(CALLS.values())  # intake, cancellations and the week
    elapsed = time.perf_counter() - started
    return {
        "appointments": appointments,
        "practices": practices,
        "intake_s": intake,
        "appointments_per_s": appointments / intake,
        "week_s": week,
        "total_s": elapsed,
        "messages": sent,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "intake_calls": intake_calls,
        "intake_requests_per_s": sum(intake_calls.values()) / intake,
        "intake_sdk_requests_per_cpu_s": sum(intake_calls.values()) / intake_sdk_cpu,
        "requests_per_appointment": sum(intake_calls.values()) / appointments,
        "lifetime_requests_per_appointment": total / appointments,
        "lifetime_requests_per_s": total / elapsed,
        # The whole run's requests, timed where they ran (SDK and emulator CPU alone).
        "lifetime_sdk_requests_per_cpu_s": total / SDK_CPU[0],
    }


# The handler requests the emulator can replay on its own, with a request like ours.
def _replayers(stack: Any) -> dict[str, Any]:
    import itertools

    import boto3

    from local.deploy import LOCAL_TABLE

    dynamodb, scheduler, sns = boto3.client("dynamodb"), boto3.client("scheduler"), boto3.client("sns")
    group = stack.deployment.schedule_groups[0]
    serial = itertools.count()
    body = {"S": "x" * 600}  # about the size of our appointment and ledger items
    key = {"pk": {"S": "BENCH#emulator"}, "sk": {"S": "PROFILE"}}
    dynamodb.put_item(TableName=LOCAL_TABLE, Item={**key, "body": body})

    def put() -> None:
        item = {"pk": {"S": "BENCH#emulator"}, "sk": {"S": f"ROW#{next(serial)}"}, "body": body}
        dynamodb.put_item(TableName=LOCAL_TABLE, Item=item)

    def transact() -> None:
        rows = [{"pk": {"S": "BENCH#emulator"}, "sk": {"S": f"TX#{next(serial)}"}, "body": body} for _ in range(2)]
        dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": LOCAL_TABLE, "Item": r}} for r in rows])

    def schedule() -> None:
        scheduler.create_schedule(
            Name=f"bench-{next(serial)}",
            GroupName=group,
            ScheduleExpression="at(2030-01-01T08:00:00)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:lambda:eu-central-1:123456789012:function:x",
                "RoleArn": "arn:aws:iam::1:role/r",
            },
            State="DISABLED",
        )

    return {
        "dynamodb.GetItem": lambda: dynamodb.get_item(TableName=LOCAL_TABLE, Key=key, ConsistentRead=True),
        "dynamodb.PutItem": put,
        "dynamodb.UpdateItem": lambda: dynamodb.update_item(
            TableName=LOCAL_TABLE,
            Key=key,
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
        "dynamodb.TransactWriteItems": transact,
        "dynamodb.Query": lambda: dynamodb.query(
            TableName=LOCAL_TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "BENCH#emulator"}},
            Limit=10,
        ),
        "scheduler.CreateSchedule": schedule,
        "sns.Publish": lambda: sns.publish(PhoneNumber="+48601234567", Message="bench"),
    }


def emulator_rate(stack: Any, mix: Counter[str], seconds: float = 3.0) -> dict[str, Any]:
    """Requests per second the emulator itself answers for our request mix (the operations
    in `mix` it can replay alone, in their proportions), one request at a time as a
    handler makes them: the ceiling of the local pipeline."""
    replay = _replayers(stack)
    share = {op: n for op, n in mix.items() if op in replay}
    cycle = [op for op, n in sorted(share.items()) for _ in range(max(1, round(20 * n / sum(share.values()))))]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for op in cycle:
            replay[op]()
        done += len(cycle)
    elapsed = time.perf_counter() - started
    return {
        "requests_per_s": done / elapsed,
        "replayed_share": sum(share.values()) / sum(mix.values()),
        "ops": sorted(share),
    }

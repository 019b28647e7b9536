"""D19: a practice leaves the service. Checked as the practice's data-protection officer
would at the contract's end: every item in the table, every schedule and escalation
still waiting, every line logged; and as its patients would: nothing more reaches them."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime, timedelta

import boto3
import pytest

from notify.services import offboarding
from ops.practice import offboard, status
from ops.redrive import depth

from . import traces
from .conftest import NOTICE_DELAY, own_mobile

DEAD_LETTERS = ("StreamFailures", "ScheduleFailures", "SendFailures", "SmsFailures")
# What may still name a practice once its data is erased: the record of its leaving, and
# items keyed by something else that expire on their own within days and name nobody
# (event markers: 30 days; a day's grouped reminder: 2 days after the day).
LEFT_BEHIND = {"practice", "event", "reminder_group"}


def _waiting_for(practice_id: str) -> tuple[list[str], list[str]]:
    """Schedules whose input names the practice, and escalations running for it."""
    scheduler = boto3.client("scheduler")
    schedules = []
    for group in scheduler.list_schedule_groups()["ScheduleGroups"]:
        for summary in scheduler.list_schedules(GroupName=group["Name"])["Schedules"]:
            full = scheduler.get_schedule(Name=summary["Name"], GroupName=group["Name"])
            if full.get("State") == "ENABLED" and practice_id in full["Target"].get("Input", ""):
                schedules.append(summary["Name"])
    sfn = boto3.client("stepfunctions")
    running = [
        e["name"]
        for machine in sfn.list_state_machines()["stateMachines"]
        for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")[
            "executions"
        ]
        if practice_id in sfn.describe_execution(executionArn=e["executionArn"]).get("input", "")
    ]
    return schedules, running


def _not_of_others(items: list[dict], practice_id: str) -> list[dict]:
    """The items no other practice's id appears in (the tests' practices share people's
    names and numbers, and the session's table holds every test's)."""
    others = {
        i["pk"]["S"].removeprefix("PRACTICE#")
        for i in items
        if i["pk"]["S"].startswith("PRACTICE#") and i["pk"]["S"] != f"PRACTICE#{practice_id}"
    }
    return [i for i in items if not any(other in json.dumps(i) for other in others)]


def _items_naming(items: list[dict], practice_id: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in items:
        if practice_id in json.dumps(item):
            found.setdefault(traces.kind(item), []).append(item)
    return found


def test_d19_a_practice_that_leaves_is_erased_and_nothing_more_goes_out(
    scenario, control, local_stack, aws_requests
):
    s = scenario(uses_email=True, recalls_enabled=True)
    stays = scenario()
    practice_id = s.pms.practice_id
    logs = traces.LogWindow(local_stack)
    patient_id = f"leave-{uuid.uuid4().hex[:8]}"
    person = traces.person(patient_id[-4:])
    traces.lively_patient(s, control, patient_id, person)  # ends with an escalation waiting
    stays.patient("p1", phone=own_mobile())
    stays.book("b1", "p1", stays.local(9))
    needles = {
        **traces.needles_of(s, patient_id, person),
        "keeper": "Adam Keeper",
        "keeper's phone": "601111222",
    }
    before = _items_naming(traces.scan(local_stack.table_name), practice_id)
    schedules, running = _waiting_for(practice_id)
    assert schedules and running, "nothing waiting to withdraw"
    dead_before = {q: depth(q) for q in DEAD_LETTERS}
    numbers = (traces.PHONE_E164, "+48601111222")
    sms_before = [control.sms_received(n) for n in numbers]
    ses = boto3.client("ses")
    emails_before = ses.get_send_quota()["SentLast24Hours"]

    receipt = offboard(practice_id)

    closed_at = datetime.fromisoformat(receipt["closed_at"])
    assert receipt["erasure_from"] == (closed_at + offboarding.ERASE_AFTER).isoformat()
    assert sum(receipt["sms_used"].values()) >= 1  # the final invoice's SMS
    assert status(practice_id)["state"] == "closed: erasure under way"
    # Closed at once: no request of the practice is accepted, no patient page shown.
    refused = s.pms.send("patient.upserted", {"patient_id": "new", "name": "Nowy", "phone": own_mobile()})
    assert refused.status_code == 401, refused.text
    assert s.pms.get("statistics").status_code == 401
    assert s.browser.open(s.token("a1")).status_code == 404
    assert offboard(practice_id)["closed_at"] == receipt["closed_at"]  # again: the same close

    made = len(aws_requests)
    control.advance((offboarding.ERASE_AFTER + NOTICE_DELAY + timedelta(minutes=2)).total_seconds())
    erasing = Counter(operation for operation, _ in aws_requests[made:])

    state = status(practice_id)
    items = traces.scan(local_stack.table_name)
    left = _items_naming(items, practice_id)
    print(
        f"\nD19: before closing, {sum(map(len, before.values()))} items named the practice in "
        f"{len(before)} kinds {sorted(before)}; {len(schedules)} schedules and {len(running)} escalations "
        f"waited. After erasure: {state['items_removed']} items removed, "
        f"{ {k: len(v) for k, v in left.items()} } left, {len(needles)} needles found in none; "
        f"{erasing.total()} AWS requests meanwhile ({', '.join(f'{n} {op}' for op, n in erasing.most_common())})"
    )
    assert state["state"] == "erased", state
    assert state["items_removed"] >= sum(len(v) for k, v in before.items() if k not in LEFT_BEHIND)
    assert traces.hits(_not_of_others(items, practice_id), needles) == {}
    assert set(left) <= LEFT_BEHIND, {k: v[:1] for k, v in left.items() if k not in LEFT_BEHIND}
    (record,) = left["practice"]
    assert set(record) >= {"closed_at", "erased_at", "removed"}
    assert not {"settings", "calendars", "callback_url"} & set(record)
    horizon = (control.now() + timedelta(days=31)).timestamp()
    assert all(float(i["expires_at"]["N"]) <= horizon for k in LEFT_BEHIND - {"practice"} for i in left.get(k, []))
    assert _waiting_for(practice_id) == ([], [])
    sns = boto3.client("sns")
    assert not [
        e
        for app in sns.list_platform_applications()["PlatformApplications"]
        for e in sns.list_endpoints_by_platform_application(PlatformApplicationArn=app["PlatformApplicationArn"])[
            "Endpoints"
        ]
        if e["Attributes"].get("Token") == person["device_token"]
    ]

    # The week goes on: the practice's patients get nothing more (the provider's own
    # counts: our ledger of them is gone); the other practice's do; nothing is written.
    control.advance_to(stays.local(9))
    assert [control.sms_received(n) for n in numbers] == sms_before
    assert ses.get_send_quota()["SentLast24Hours"] == emails_before
    assert stays.messages("b1", kind="reminder")
    assert set(_items_naming(traces.scan(local_stack.table_name), practice_id)) <= LEFT_BEHIND
    assert {q: depth(q) for q in DEAD_LETTERS} == dead_before  # nothing failed on the way
    personal = {label: n for label, n in needles.items() if label != "patient id"}
    assert not [line for line in logs.lines() if any(n in line for n in personal.values())][:3]


def test_d19_d23_the_rest_of_a_taken_slot_is_erased_with_the_practice(scenario, control, local_stack):
    """A freed hour taken by a 20-minute visit leaves a slot of its own for the rest
    (D23); the practice's erasure removes it with the slot it came from."""
    s = scenario()
    s.daytime()
    practice_id = s.pms.practice_id
    slot_start = s.local(3)
    for appointment_id, start, minutes in (
        ("hour", slot_start, 60),
        ("short", s.local(6), 20),
        ("other", s.local(7), 30),
    ):
        s.patient(appointment_id)
        s.book(appointment_id, appointment_id, start, end=(start + timedelta(minutes=minutes)).isoformat())
    s.change("appointment.cancelled", {"appointment_id": "hour"})
    (offer,) = s.messages("short", kind="slot_offer")
    assert s.browser.http.post(offer["link"], timeout=60).status_code == 200
    s.settle()
    assert s.messages("other", kind="slot_offer")  # the first hour's offer, and the rest's
    slots = {i["pk"]["S"] for i in _items_naming(traces.scan(local_stack.table_name), practice_id)["slot"]}
    assert {pk.rpartition("#")[2] for pk in slots} == {"hour.v1", "short.v2.rest"}
    offboard(practice_id)
    control.advance((offboarding.ERASE_AFTER + NOTICE_DELAY + timedelta(minutes=2)).total_seconds())
    assert status(practice_id)["state"] == "erased"
    assert "slot" not in _items_naming(traces.scan(local_stack.table_name), practice_id)


def test_d19_work_for_a_closed_practice_ends_quietly_before_its_erasure(
    scenario, control, local_stack, monkeypatch
):
    """Between the close and the erasure, whatever still fires for the practice (a
    reminder, an answer to a text, a recall link) does nothing, writes nothing and is not
    retried into a dead-letter queue."""
    # The erasure waits longer here, so the reminder surely fires before it (its flexible
    # window is up to an hour).
    monkeypatch.setattr(offboarding, "ERASE_AFTER", timedelta(hours=3))
    s = scenario()
    control.advance_to(s.local(1, 10))
    digits = own_mobile()
    number = f"+48{digits}"
    s.patient("pat", phone=digits)
    s.book("a1", "pat", s.local(3, 10))
    (sms,) = s.messages("a1", kind="confirmation")
    assert control.sms_received(number) == [sms["text"]]
    (reminder,) = [
        m
        for m in s.pms.get("appointments/a1").json()["messages"]
        if (m["kind"], m["status"]) == ("reminder", "planned")
    ]
    control.advance_to(datetime.fromisoformat(reminder["due_at"]) - timedelta(minutes=5))
    rows = _ledger_of(local_stack, s.pms.practice_id)
    dead_before = {q: depth(q) for q in DEAD_LETTERS}
    logs = traces.LogWindow(local_stack)

    offboard(s.pms.practice_id)
    control.text(number, "1")  # the patient answers the confirmation
    control.advance(timedelta(minutes=70).total_seconds())  # the reminder fires

    assert status(s.pms.practice_id)["state"] == "closed: erasure under way"
    refused = [
        entry
        for entry in map(json.loads, logs.lines())
        if entry.get("message") == "message not sent" and entry.get("reason") == offboarding_reason()
    ]
    assert [r.get("message_id") for r in refused] == [reminder["message_id"]], refused
    assert control.sms_received(number) == [sms["text"]]  # no answer, no reminder
    assert _ledger_of(local_stack, s.pms.practice_id) == rows  # nothing written for it
    assert {q: depth(q) for q in DEAD_LETTERS} == dead_before  # nothing retried
    control.advance(timedelta(hours=2).total_seconds())
    assert status(s.pms.practice_id)["state"] == "erased"


def offboarding_reason() -> str:
    from notify.services.delivery import PRACTICE_CLOSED

    return PRACTICE_CLOSED


def _ledger_of(local_stack, practice_id: str) -> list[dict]:
    prefix = f"LEDGER#{practice_id}#"
    return sorted(
        (i for i in traces.scan(local_stack.table_name) if i["pk"]["S"].startswith(prefix)),
        key=lambda i: (i["pk"]["S"], i["sk"]["S"]),
    )


def test_d19_a_long_erasure_goes_on_run_after_run(scenario, control, local_stack, monkeypatch):
    """A practice with more than a run can do: each run removes what it can in its time
    and plans the next; the last marks the practice erased. Repeating a run is harmless."""
    monkeypatch.setattr(offboarding, "RUN_BUDGET_S", 0.0)  # one item per run
    s = scenario()
    control.advance_to(s.local(1, 10))
    for n in range(3):
        s.patient(f"pat{n}", phone=own_mobile())
        s.book(f"a{n}", f"pat{n}", s.local(4 + n))
    logs = traces.LogWindow(local_stack)
    closed_at = datetime.fromisoformat(offboard(s.pms.practice_id)["closed_at"])

    control.advance((offboarding.ERASE_AFTER + timedelta(minutes=20)).total_seconds())

    runs = [json.loads(line) for line in logs.lines() if '"practice erasure run"' in line]
    assert len(runs) >= 6, len(runs)  # three appointments, three patients: one run each at least
    assert [r["erased"] for r in runs].count(True) == 1 and runs[-1]["erased"]
    state = status(s.pms.practice_id)
    assert state["state"] == "erased" and state["items_removed"] == sum(r["removed"] for r in runs)
    assert set(_items_naming(traces.scan(local_stack.table_name), s.pms.practice_id)) <= LEFT_BEHIND
    again = offboarding.erase_run(
        offboarding.LeaveRequest(practice_id=s.pms.practice_id, closed_at=closed_at, run=1),
        None,  # type: ignore[arg-type]  # an erased practice needs nothing: the run ends at once
        control.now(),
    )
    assert (again.removed, again.erased, again.more) == (0, False, False)


@pytest.mark.parametrize("command", ["rotate-key", "configure"])
def test_d19_a_closed_practice_gets_no_new_keys_or_settings_until_erased(scenario, control, command):
    from ops.practice import configure, main

    s = scenario()
    offboard(s.pms.practice_id)
    with pytest.raises(SystemExit, match="closed at"):
        if command == "rotate-key":
            main(["rotate-key", "--practice-id", s.pms.practice_id])
        else:
            configure(s.pms.practice_id, name="Back", timezone="Europe/Warsaw", country="PL")
    control.advance((offboarding.ERASE_AFTER + timedelta(minutes=5)).total_seconds())
    assert status(s.pms.practice_id)["state"] == "erased"
    configure(s.pms.practice_id, name="Back again", timezone="Europe/Warsaw", country="PL")  # starts afresh
    assert status(s.pms.practice_id)["state"] == "open"


def test_p5_d19_every_patients_data_is_handed_back_before_the_practice_leaves(scenario, control, tmp_path):
    """At the contract's end the practice gets its patients' data back (GDPR art. 28(3)(g):
    returned, then deleted): one JSON line per patient, each what the practice API's
    export (P5) gives, in a new file only its owner can read."""
    from ops.practice import main

    s = scenario()
    for patient_id in ("anna", "ben", "cyril"):
        s.patient(patient_id, phone=own_mobile())
    s.book("a1", "anna", s.local(3))
    out = tmp_path / "practice.jsonl"

    main(["export", "--practice-id", s.pms.practice_id, "--out", str(out)])

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["patient"]["patient_id"] for line in lines] == ["anna", "ben", "cyril"]
    for line in lines:
        api = s.pms.get(f"patients/{line['patient']['patient_id']}/export").json()
        assert {**line, "exported_at": None} == {**api, "exported_at": None}
    sent = [(m["kind"], m["channel"]) for m in lines[0]["messages"] if m["status"] == "sent"]
    assert sent == [("confirmation", "sms")]
    assert out.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):  # never written over
        main(["export", "--practice-id", s.pms.practice_id, "--out", str(out)])

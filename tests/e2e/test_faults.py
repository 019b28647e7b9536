"""B8 drills on the local stack: throttling on every service the handlers call, a full
outage of one, and the redrive command. Nothing planned is lost: it is sent after
recovery (retries, or a redrive of its dead-letter queue), never twice."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import pytest

from ops.redrive import depth, redrive, redrive_escalations, successor_name

from .conftest import APP_PATIENT

B8_ROUNDS = int(os.environ.get("B8_ROUNDS", "1"))  # `make soak` runs more
RATES = {"dynamodb": 0.1, "scheduler": 0.1, "sns": 0.1, "ses": 0.1}


def _send(s, event_type: str, data: dict, event_id: str) -> None:
    """The PMS side: a 5xx (a throttled dependency) is retried with the same event_id."""
    for _ in range(8):
        response = s.pms.send(event_type, data, event_id=event_id)
        if response.status_code < 500:
            assert response.status_code == 202, response.text
            return
    raise AssertionError(f"{event_type} kept failing")


def _redrive_all() -> int:
    return sum(redrive(queue) for queue in ("SendFailures", "StreamFailures")) + redrive_escalations()


def _expected_once(s, expected: set[tuple[str, str]], escalated: frozenset[str] = frozenset()) -> list[dict]:
    """Each expected (appointment, kind) sent, once; the `escalated` appointments'
    reminders also by SMS (the push went unanswered, C1)."""
    rows = s.messages()
    keys = [(r["message_id"], r["channel"]) for r in rows]
    assert len(keys) == len(set(keys)), "a message went out twice"
    sent = {(r["appointment_id"], r["kind"]) for r in rows}
    assert expected <= sent, f"lost: {sorted(expected - sent)}"
    sms = {r["appointment_id"] for r in rows if (r["kind"], r["channel"]) == ("reminder", "sms")}
    assert escalated <= sms, f"escalation SMS lost: {sorted(escalated - sms)}"
    return rows


@pytest.mark.parametrize("round_", range(B8_ROUNDS))  # each round draws other faults
def test_b8_ten_percent_throttling_everywhere_loses_no_message(scenario, control, round_):
    s = scenario(uses_email=True)
    family = "602 000 111"  # s0 and s1 share a phone: one reminder for both (R11)
    people = {
        "a0": APP_PATIENT,
        "a1": APP_PATIENT,
        "s0": {"phone": family},
        "s1": {"phone": family},
        "e0": {"email": "e0@example.com", "phone": ""},
    }
    start = {pid: s.local(5, 9 + i) for i, pid in enumerate(people)}
    end = s.local(7)
    started = time.perf_counter()
    before = control.faults(rates=RATES)["injected"]
    try:
        for pid, extra in people.items():
            _send(
                s,
                "patient.upserted",
                {"patient_id": pid, "phone": "601 234 567", "name": "Jan Kowalski", **extra},
                f"up-{pid}",
            )
            _send(
                s,
                "appointment.created",
                {
                    "appointment_id": pid,
                    "patient_id": pid,
                    "start": start[pid].isoformat(),
                    "end": (start[pid] + timedelta(minutes=30)).isoformat(),
                    "source": "app" if pid.startswith("a") else "practice",
                },
                f"book-{pid}",
            )
        # The family answers the grouped reminder (T1) while everything still throttles: it
        # left 48 h before, or up to an hour later (its flexible window, issue 16).
        control.advance_to(start["s0"] - timedelta(hours=46, minutes=30))
        control.text("+48602000111", "1", message_id=f"drill-{s.pms.practice_id}")
        control.advance_to(end)
    finally:
        after = control.faults()["injected"]
    injected = {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}
    redriven = _redrive_all()
    control.advance(0)
    rows = _expected_once(
        s,
        {(pid, kind) for pid in people for kind in ("confirmation", "reminder") if pid != "s1"}
        | {("s1", "confirmation"), ("s0", "reply")},
        escalated=frozenset({"a0", "a1"}),
    )
    (grouped,) = [r for r in rows if (r["appointment_id"], r["kind"], r["channel"]) == ("s0", "reminder", "sms")]
    assert "11:00" in grouped["text"] and "12:00" in grouped["text"]  # s0's and s1's
    assert not [r for r in rows if (r["appointment_id"], r["kind"]) == ("s1", "reminder")]
    assert len([r for r in rows if r["kind"] == "reply"]) == 1
    for pid in ("s0", "s1"):
        assert s.pms.get(f"appointments/{pid}").json()["appointment"]["status"] == "confirmed"
    print(
        f"B8 10% drill: {sum(injected.values())} faults injected {injected}, "
        f"{redriven} redriven, {len(rows)} messages sent, 0 lost, "
        f"{time.perf_counter() - started:.1f}s"
    )
    assert sum(injected.values()) > 0


def test_b8_sns_outage_dead_letters_sends_and_redrive_delivers_them_once(scenario, control):
    s = scenario()
    for i in range(3):
        s.patient(f"p{i}")
    starts = [s.local(6, 10 + i) for i in range(3)]
    before = depth("SendFailures")
    control.faults(down=["sns"])
    try:
        for i, start in enumerate(starts):
            s.book(f"a{i}", f"p{i}", start)
        control.advance(60)
        assert s.messages(kind="confirmation") == []
        assert depth("SendFailures") >= before + 3  # retried twice, then dead-lettered
        ledger = s.pms.get("appointments/a0").json()["messages"]
        assert {(m["channel"], m["status"]) for m in ledger} >= {("sms", "failed")}
    finally:
        control.faults()
    assert redrive("SendFailures") >= 3
    control.advance(0)
    assert depth("SendFailures") == 0
    sent = _expected_once(s, {(f"a{i}", "confirmation") for i in range(3)})
    assert len(sent) == 3
    assert s.sms_used(sent) == sum(r["segments"] for r in sent)
    assert redrive("SendFailures") == 0  # nothing left, and a second redrive sends nothing


def _reminder_pushed_then_down(s, control, service: str, after_escalation: timedelta) -> datetime:
    """An app patient's reminder push goes out unanswered (within its flexible window, 48 to
    47 h before the start); from before its escalation time (2 h later) `service` is down
    until `after_escalation` past it. Returns the escalation time."""
    s.patient("pat", **APP_PATIENT)
    start = s.local(4)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start - timedelta(hours=47))
    (push,) = s.messages("a1", kind="reminder")
    assert push["channel"] == "push"
    escalation = s.at(push) + timedelta(hours=2)
    redrive_escalations()  # whatever earlier tests left failed, so the counts below are ours
    control.faults(down=[service])
    try:
        control.advance_to(escalation + after_escalation)
    finally:
        control.faults()
    return escalation


def test_b8_failed_escalation_is_started_again_and_sends_its_sms_once(scenario, control):
    s = scenario()
    # The SMS task fails, is retried three times (5, 10, 20 s), and the execution fails.
    _reminder_pushed_then_down(s, control, "sns", after_escalation=timedelta(hours=1))
    assert s.messages("a1", kind="reminder", channel="sms") == []
    ledger = s.pms.get("appointments/a1").json()["messages"]
    assert ("reminder", "sms", "failed") in {(m["kind"], m["channel"], m["status"]) for m in ledger}
    assert redrive_escalations() == 1
    control.advance(0)
    (sms,) = s.messages("a1", kind="reminder", channel="sms")
    assert sms["appointment_id"] == "a1"
    assert redrive_escalations() == 0  # the failed one has its successor now


def test_b8_escalation_read_retries_a_throttled_table_and_the_sms_still_goes(scenario, control):
    s = scenario()
    # The state machine's read fails at the escalation time and waits 2 s to retry.
    escalation = _reminder_pushed_then_down(s, control, "dynamodb", after_escalation=timedelta(0))
    assert s.messages("a1", kind="reminder", channel="sms") == []
    control.advance(60)
    (sms,) = s.messages("a1", kind="reminder", channel="sms")
    assert s.at(sms) == escalation + timedelta(seconds=2)


def test_b8_redriven_escalation_sends_nothing_when_the_patient_answered_meanwhile(scenario, control):
    s = scenario()
    _reminder_pushed_then_down(s, control, "sns", after_escalation=timedelta(hours=1))
    assert s.tap("a1", "confirm").status_code == 200
    assert redrive_escalations() == 1
    control.advance(0)
    assert s.messages("a1", kind="reminder", channel="sms") == []


def test_b8_successor_names_count_up():
    assert successor_name("abc") == "abc-r1"
    assert successor_name("abc-r1") == "abc-r2"
    assert successor_name("ab-rc") == "ab-rc-r1"


def test_b5_b8_a_planned_message_whose_schedule_never_reached_its_sender_reads_overdue(
    scenario, control, local_stack
):
    """A reminder's schedule never reaches send_push (here: deleted, as when Scheduler's
    tries all fail into its dead-letter queue). Once its moment, its flexible window and
    every retry are past, the practice's ledger no longer shows a plain "planned" row in
    the past: it says the reminder is overdue and why; until then it is planned."""
    import boto3

    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))

    def reminder_row() -> dict:
        (row,) = [
            m
            for m in s.pms.get("appointments/a1").json()["messages"]
            if (m["kind"], m["channel"]) == ("reminder", "schedule")
        ]
        return row

    planned = reminder_row()
    assert planned["status"] == "planned" and planned["reason"] is None
    group = local_stack.deployment.schedule_groups[0]
    name = f"{s.pms.practice_id}.a1.reminder.v1"
    boto3.client("scheduler").delete_schedule(Name=name, GroupName=group)
    due = datetime.fromisoformat(planned["due_at"])
    control.advance_to(due + timedelta(hours=2))  # its window and retries may still run
    assert reminder_row()["status"] == "planned" and reminder_row()["reason"] is None
    control.advance_to(due + timedelta(hours=3, minutes=1))
    overdue = reminder_row()
    assert overdue["status"] == "planned" and overdue["reason"].startswith("overdue"), overdue
    assert s.messages("a1", kind="reminder") == []

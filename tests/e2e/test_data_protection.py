"""Data protection end to end (P1, P2, P3, P5 and the link scanner case), checked the way a
data-protection officer would: by reading every item in the table and every line the
handlers logged, not by asking the code what it did."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import boto3
import pytest

from local.ttl import LAG as TTL_LAG
from notify.dal.erasures import GROUP_TEXT_ERASED
from notify.dal.ledger import Content, MessageRef, claim, transition
from notify.domain.model import Channel, DeliveryStatus, MessageKind
from notify.services.erasure import SECOND_PASS_AFTER

from . import traces
from .conftest import NOTICE_DELAY, own_mobile


@pytest.mark.parametrize("how", ["event", "api"])
def test_p1_erasure_leaves_no_trace_of_the_patient_in_any_item_or_log(scenario, control, local_stack, how):
    s = scenario(uses_email=True, recalls_enabled=True)
    logs = traces.LogWindow(local_stack)
    patient_id = f"erase-{uuid.uuid4().hex[:8]}"
    person = traces.person(patient_id[-4:])
    traces.lively_patient(s, control, patient_id, person)
    needles = traces.needles_of(s, patient_id, person)
    kinds = {m["kind"] for m in s.messages() if m["patient_id"] == patient_id}
    assert {"confirmation", "slot_offer", "recall"} <= kinds, kinds
    assert any(label.startswith("token") for label in needles)
    before = traces.hits(traces.scan(local_stack.table_name), needles)
    kinds_before = set().union(*before.values())
    stats_before = s.pms.get("statistics").json()["totals"]
    sfn = boto3.client("stepfunctions")
    (machine,) = local_stack.deployment.state_machines.values()
    assert sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]

    if how == "event":
        erased = s.pms.send("patient.erased", {"patient_id": patient_id})
    else:
        erased = s.pms.call("DELETE", f"patients/{patient_id}")
    assert erased.status_code == 202, erased.text
    control.advance(0)  # the first pass
    # A send that read the patient just before the erasure writes after the first pass:
    # the second pass removes it.
    ref = MessageRef(s.pms.practice_id, "a1", patient_id, "a1.reminder.v1", MessageKind.REMINDER)
    assert claim(ref, Channel.SMS, control.now())
    late = Content(f"Hello {person['name']}", None, None, traces.PHONE_E164, control.now() + timedelta(days=90))
    transition(ref, Channel.SMS, DeliveryStatus.SENT, control.now(), content=late)
    control.advance((SECOND_PASS_AFTER + NOTICE_DELAY).total_seconds())

    items = traces.scan(local_stack.table_name)
    after = traces.hits(items, needles)
    # Logs carry pseudonymous ids (practice, appointment, message; a recall's message id
    # holds the PMS's patient id) for correlation, and expire with their log group; never
    # a name, contact datum, device or token.
    personal = {label: n for label, n in needles.items() if label != "patient id"}
    leaked_logs = {label for line in logs.lines() for label, n in personal.items() if n in line}
    print(
        f"\nP1 ({how}): {len(needles)} needles; before erasure in {len(kinds_before)} item kinds "
        f"{sorted(kinds_before)}; after: {len(items)} items scanned, {len(after)} needles found; "
        f"{len(logs.lines())} log lines, {len(leaked_logs)} needles in them"
    )
    assert after == {}
    assert leaked_logs == set(), [line for line in logs.lines() if any(n in line for n in personal.values())][:3]
    left_behind = {"patient", "appointment", "ledger", "ledger_content", "recall", "blocked_number", "callback"}
    assert left_behind <= kinds_before
    # Withdrawn: no schedule of the patient's appointments, no escalation running.
    assert [n for n in control.schedules(s.pms.practice_id) if ".a1." in n or ".a2." in n] == []
    assert sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"] == []
    # The device's push endpoint is gone from SNS.
    sns = boto3.client("sns")
    endpoints = [
        e
        for app in sns.list_platform_applications()["PlatformApplications"]
        for e in sns.list_endpoints_by_platform_application(PlatformApplicationArn=app["PlatformApplicationArn"])[
            "Endpoints"
        ]
        if e["Attributes"].get("Token") == person["device_token"]
    ]
    assert endpoints == []
    # De-identified counters stay; the other patient is untouched.
    assert s.pms.get("statistics").json()["totals"] == stats_before
    assert s.pms.get("patients/keeper/export").status_code == 200
    assert s.pms.get(f"patients/{patient_id}/export").status_code == 404
    # Idempotent: the event again is a duplicate; an older update cannot bring them back.
    if how == "event":
        again = s.pms.send(
            "patient.erased", {"patient_id": patient_id}, event_id=json.loads(erased.request.body)["event_id"]
        )
        assert again.json()["status"] == "duplicate"
    older = s.pms.send(
        "patient.upserted", {"patient_id": patient_id, **person}, occurred_at=control.now() - timedelta(hours=1)
    )
    assert older.json()["status"] == "stale"
    control.advance(0)
    assert traces.hits(traces.scan(local_stack.table_name), needles) == {}


def test_p1_r11_erasure_takes_the_patient_out_of_a_familys_grouped_reminder(scenario, control, local_stack):
    """Two patients share a phone: the day's reminder went as one SMS listing both (R11),
    kept in the other patient's ledger. Erasing one leaves their first name nowhere: the
    other's kept text is replaced, the rest of their history stays."""
    s = scenario()
    digits = own_mobile()
    tag = uuid.uuid4().hex[:6]
    names = {"fam-a": f"Wiesława{tag} Fam", "fam-b": f"Bożydar{tag} Fam"}
    for patient_id, name in names.items():
        s.patient(patient_id, phone=digits, name=name)
    s.book("ga", "fam-a", s.local(5, 9))
    s.book("gb", "fam-b", s.local(5, 9, 30))
    control.advance_to(s.local(5, 8))
    (sms,) = s.messages(kind="reminder", channel="sms")
    assert all(name.split()[0] in sms["text"] for name in names.values()), sms["text"]
    owner = sms["appointment_id"]
    erased = {"ga": "fam-b", "gb": "fam-a"}[owner]
    first_name = names[erased].split()[0]
    assert traces.hits(traces.scan(local_stack.table_name), {"name": first_name}), "nothing to erase"

    assert s.pms.send("patient.erased", {"patient_id": erased}).status_code == 202
    control.advance((SECOND_PASS_AFTER + NOTICE_DELAY).total_seconds())

    assert traces.hits(traces.scan(local_stack.table_name), {"name": first_name}) == {}
    (row,) = [
        m
        for m in s.pms.get(f"appointments/{owner}").json()["messages"]
        if (m["channel"], m["kind"]) == ("sms", "reminder")
    ]
    assert row["status"] == "sent" and row["text"] == GROUP_TEXT_ERASED, row
    kept = {"ga": "fam-a", "gb": "fam-b"}[owner]
    assert s.pms.get(f"patients/{kept}/export").status_code == 200


def test_p1_erasure_of_an_unknown_patient_is_accepted_and_harmless(scenario, control):
    s = scenario()
    s.patient("other")
    s.book("o1", "other", s.local(5))
    response = s.pms.call("DELETE", "patients/nobody-here")
    assert response.status_code == 202
    control.advance(SECOND_PASS_AFTER.total_seconds() + 60)
    assert s.pms.get("patients/other/export").json()["appointments"][0]["appointment_id"] == "o1"


def test_p5_export_returns_everything_held_about_one_patient_with_the_notices_naming_them(
    scenario, control, browser
):
    s = scenario(uses_email=True, recalls_enabled=True)
    person = traces.person("export")
    s.patient("pat", **person)
    s.pms.send("recall.due", {"patient_id": "pat", "recall_type": "checkup", "due_at": control.now().isoformat()})
    control.advance_to(s.local(1, 10, 5))
    s.book("a1", "pat", s.local(5), source="app")
    s.patient("other", phone="601 222 333")
    s.book("o1", "other", s.local(5))
    # What they wrote to the practice, and what the practice was told of them (D22).
    assert browser.follow(s.link("a1"), "change-time", note="Only after 4 pm").status_code == 200
    assert browser.follow(s.link("o1"), "change-time", note="Someone else's words").status_code == 200

    export = s.pms.get("patients/pat/export")
    assert export.status_code == 200, export.text
    body = export.json()
    assert body["patient"]["name"] == person["name"] and body["patient"]["email"] == person["email"]
    assert body["patient"]["push_device_registered"] is True
    assert [a["appointment_id"] for a in body["appointments"]] == ["a1"]
    assert [r["recall_type"] for r in body["recalls"]] == ["checkup"]
    kinds = {(m["kind"], m["channel"]) for m in body["messages"]}
    assert ("confirmation", "push") in kinds and ("recall", "push") in kinds
    ids = [(m["message_id"], m["channel"]) for m in body["messages"]]
    assert len(ids) == len(set(ids)), "each message once"
    sent = [m for m in body["messages"] if m["status"] == "sent"]
    assert sent and all(m["text"] for m in sent)  # within retention: what it said
    assert [(n["type"], n["data"]["note"]) for n in body["notices"]] == [
        ("appointment.reschedule_requested", "Only after 4 pm")
    ]
    assert "o1" not in json.dumps(body) and "601 222 333" not in json.dumps(body)
    assert "Someone else's" not in json.dumps(body)
    assert s.pms.get("patients/nobody/export").status_code == 404


def test_p2_message_texts_links_and_recipients_age_out_after_the_practice_retention(
    scenario, control, local_stack, browser
):
    s = scenario(retention_days=30)
    s.patient("pat")
    start = s.local(3)
    s.book("a1", "pat", start)
    link = s.link("a1")
    assert s.messages("a1")[0]["text"]
    export = s.pms.get("patients/pat/export").json()
    assert all(m["text"] for m in export["messages"] if m["status"] == "sent")

    # Past the retention, the practice sees that messages went, not what they said; the
    # link no longer opens, even before DynamoDB's TTL process has deleted anything.
    control.advance_to(start + timedelta(days=30, hours=1))
    messages = s.pms.get("patients/pat/messages").json()["messages"]
    sent = [m for m in messages if m["status"] == "sent"]
    assert sent and all(m["text"] is None and m["link"] is None and m["recipient"] is None for m in sent)
    assert browser.http.get(link, timeout=30).status_code == 404

    # Up to two days later the TTL process has deleted the expired items themselves.
    expired_before = local_stack.router.stats["expired_items"]
    control.advance(TTL_LAG.total_seconds() + 3600)
    assert local_stack.router.stats["expired_items"] > expired_before
    left = {traces.kind(i) for i in traces.scan(local_stack.table_name) if s.pms.practice_id in json.dumps(i)}
    assert "ledger_content" not in left and "link" not in left and "event" not in left, left
    assert "ledger" in left  # the ledger keeps that the messages went (B5)
    # The deletions reached the planner as TTL deletions and changed nothing.
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "booked"


def test_p3_no_secret_in_plain_text_in_the_table_or_the_logs(scenario, control, local_stack):
    logs = traces.LogWindow(local_stack)
    s = scenario()
    secrets = {s.pms.credentials.api_secret, s.pms.credentials.callback_secret}
    bare = {secret.removeprefix("whsec_") for secret in secrets}
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    assert s.pms.get("notices").status_code == 200
    text = json.dumps(traces.scan(local_stack.table_name))
    assert not any(secret in text for secret in secrets | bare)
    lines = "\n".join(logs.lines())
    assert not any(secret in lines for secret in secrets | bare)
    sealed = [
        i
        for i in traces.scan(local_stack.table_name)
        if traces.kind(i) == "secrets" and s.pms.practice_id in json.dumps(i)
    ]
    assert len(sealed) == 1 and "ciphertext" in json.dumps(sealed[0])


def test_links_and_scanners_opening_a_link_records_nothing(scenario, control, browser):
    s = scenario(booking_url="https://book.example.com/harbour")
    s.patient("pat", has_app=True, push_enabled=True, device_token="device-scan", platform="android")
    start = s.local(5)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start - timedelta(hours=47))
    (push,) = s.messages("a1", kind="reminder")
    assert push["channel"] == "push" and push["link"]
    before = s.pms.get("appointments/a1").json()
    # A mail or chat scanner prefetches every link it sees, and what the page links to.
    for _ in range(3):
        assert browser.http.get(push["link"], timeout=30).status_code == 200
        assert browser.http.head(push["link"], timeout=30).status_code in (200, 403, 405)
        browser.http.get(push["link"] + "/reschedule", allow_redirects=False, timeout=30)
    assert s.pms.get("appointments/a1").json() == before
    # Nobody acted: the push's escalation still sends the SMS (C1).
    control.advance(3 * 3600)
    assert [m["channel"] for m in s.messages("a1", kind="reminder")] == ["push", "sms"]


def test_p3_a_practice_rotates_its_api_key_without_downtime(scenario, control, local_stack, capsys):
    from local.client import PracticeClient
    from ops.practice import Credentials, main

    s = scenario()
    old = s.pms.credentials
    capsys.readouterr()
    main(["rotate-key", "--practice-id", old.practice_id])
    shown = json.loads(capsys.readouterr().out)
    assert shown["key_id"] != old.key_id and shown["api_secret"].startswith("whsec_")
    new = PracticeClient(
        s.pms.base, Credentials(old.practice_id, shown["key_id"], shown["api_secret"], ""), control
    )
    # Both keys work while the practice's systems switch over.
    assert s.pms.send("patient.upserted", {"patient_id": "p1"}).status_code == 202
    assert new.send("patient.upserted", {"patient_id": "p2"}).status_code == 202
    assert new.get("notices").status_code == 200 and s.pms.get("notices").status_code == 200
    # Retired, the old key is refused at once; the new one carries on.
    main(["retire-key", "--practice-id", old.practice_id, "--key-id", old.key_id])
    assert json.loads(capsys.readouterr().out)["retired"] is True
    assert s.pms.send("patient.upserted", {"patient_id": "p3"}).status_code == 401
    assert s.pms.get("notices").status_code == 401
    assert new.send("patient.upserted", {"patient_id": "p4"}).status_code == 202
    # The secret was shown once, on stdout; the table holds it sealed only.
    text = json.dumps(traces.scan(local_stack.table_name))
    assert shown["api_secret"] not in text and shown["api_secret"].removeprefix("whsec_") not in text

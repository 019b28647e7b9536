"""Recalls end to end over HTTP (K1-K6): criteria and PMS records, the daily schedule at
the practice's hour, the tracked booking link, escalation by category, the blocked
communication list, no-marketing confirmation, and the usage statistics."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from notify.services.recalls import BLOCKED_REASON

from .conftest import APP_PATIENT

CHECKUP = [{"recall_type": "checkup", "interval_days": 7, "appointment_types": ["Check-up"]}]


def _recalls(s, patient_id: str | None = None, **match) -> list[dict]:
    rows = s.messages(kind="recall", **match)
    return [r for r in rows if patient_id is None or r["patient_id"] == patient_id]


def _visit(s, appointment_id: str, patient_id: str, start, appointment_type="Check-up"):
    s.book(appointment_id, patient_id, start, appointment_type=appointment_type)
    s.control.advance_to(start + timedelta(minutes=40))
    response = s.pms.send("appointment.attended", {"appointment_id": appointment_id})
    assert response.status_code == 202, response.text


def _due(s, patient_id: str, due_at, event_id: str | None = None, **data):
    response = s.pms.send(
        "recall.due",
        {"patient_id": patient_id, "recall_type": "checkup", "due_at": due_at.isoformat(), **data},
        event_id=event_id,
    )
    assert response.status_code == 202, response.text
    return response


def _local_hm(s, row) -> str:
    return s.at(row).astimezone(ZoneInfo("Europe/Warsaw")).strftime("%H:%M")


def test_k1_attended_visit_starts_a_recall_sent_once_at_the_practice_hour(scenario, control):
    s = scenario(recall_rules=CHECKUP, recall_hour=10)
    for patient in ("due", "other", "next"):
        s.patient(patient)
    visit, later, before, after, end = (
        s.local(1, 9),
        s.local(20),
        s.local(8, 9, 59),
        s.local(8, 10, 1),
        s.local(12),
    )
    _visit(s, "v-due", "due", visit)
    _visit(s, "v-other", "other", visit + timedelta(hours=4), appointment_type="Whitening")
    _visit(s, "v-next", "next", visit + timedelta(hours=6))
    s.book("n-next", "next", later)  # a future appointment: not due for recall

    control.advance_to(before)
    assert _recalls(s) == []
    control.advance_to(after)
    sent = _recalls(s)
    assert [(r["patient_id"], r["channel"]) for r in sent] == [("due", "sms")]
    assert _local_hm(s, sent[0]) == "10:00"
    assert "/r/" in sent[0]["text"]
    control.advance_to(end)
    assert len(_recalls(s)) == 1  # once per recall period

    ledger = s.pms.get("patients/next/messages").json()["messages"]
    assert [(m["kind"], m["status"], m["reason"]) for m in ledger if m["kind"] == "recall"] == [
        ("recall", "skipped", "next appointment already booked")
    ]


def test_k1_pms_recall_records_are_sent_on_their_day_and_need_recalls_enabled(scenario, control):
    s = scenario(recalls_enabled=True)
    s.patient("p1")
    first = _due(s, "p1", s.local(2, 8), event_id="recall-p1")
    assert first.json()["status"] == "applied"
    assert _due(s, "p1", s.local(2, 8), event_id="recall-p1").json()["status"] == "duplicate"
    day_before, due_day = s.local(1, 23), s.local(2, 11)
    control.advance_to(day_before)
    assert _recalls(s) == []
    control.advance_to(due_day)
    sent = _recalls(s, "p1")
    assert len(sent) == 1 and _local_hm(s, sent[0]) == "10:00"

    off = scenario()
    off.patient("p1")
    response = off.pms.send(
        "recall.due", {"patient_id": "p1", "recall_type": "checkup", "due_at": off.local(1).isoformat()}
    )
    assert response.status_code == 409
    assert response.json()["fields"][0]["field"] == "type"


def test_k1_c5_a_recall_nobody_can_receive_goes_on_the_practices_list_to_phone(scenario, control):
    s = scenario(recalls_enabled=True)
    s.patient("landline", phone="22 123 45 67")
    _due(s, "landline", s.local(2, 8))
    control.advance_to(s.local(2, 11))
    assert _recalls(s, "landline") == []
    (notice,) = [n for n in s.pms.get("notices").json()["notices"] if n["type"] == "patient.unreachable"]
    assert notice["data"]["message"] == "recall" and notice["data"]["patient_id"] == "landline"
    assert notice["data"]["recall_id"] and notice["data"]["reasons"]["sms"] == "no valid mobile number"


def test_k2_booking_from_the_recall_link_is_attributed_and_confirmed_with_content(scenario, control, browser):
    s = scenario(
        recalls_enabled=True,
        uses_email=True,
        map_url="https://maps.example.com/harbour",
        parking_info="free parking behind the building",
        practitioner_photo_url="https://cdn.example.com/dr-nowak.jpg",
    )
    s.patient("p1", email="jan@example.com")
    s.patient("p2")
    _due(s, "p1", control.now())
    first_visit, second_visit = s.local(6), s.local(7)
    control.advance_to(s.local(1, 10, 5))
    sent = {r["channel"]: r for r in _recalls(s, "p1")}
    assert set(sent) == {"sms", "email"}  # no app: SMS and email (K2)
    token = browser.recall_token_in(sent["sms"]["text"])

    opened = browser.book_from_recall(token)
    assert opened.status_code == 303
    assert opened.headers["Location"] == f"https://book.example.com/harbour?recall={token}"

    booked = s.book("b1", "p1", first_visit, source="portal", recall_token=token)
    assert booked.json()["status"] == "applied"
    control.advance(0)
    confirmation = s.messages("b1", kind="confirmation", channel="email")[0]["text"]
    assert "https://maps.example.com/harbour" in confirmation
    assert "free parking behind the building" in confirmation
    assert "https://cdn.example.com/dr-nowak.jpg" in confirmation
    # A booking that did not come from a recall gets the usual confirmation.
    s.book("b2", "p2", second_visit, source="portal", recall_token=token)  # not p2's token
    control.advance(0)
    assert "maps.example.com" not in (s.messages("b2", kind="confirmation")[0]["text"])

    stats = s.pms.get("statistics").json()["totals"]
    assert stats["recall_bookings"] == 1
    notices = s.pms.get("notices").json()["notices"]
    booked_notices = [n for n in notices if n["type"] == "recall.booked"]
    assert [n["data"]["appointment_id"] for n in booked_notices] == ["b1"]


def test_k3_unviewed_result_recall_push_goes_to_sms_after_2h_health_after_24h(scenario, control, browser):
    s = scenario(recalls_enabled=True)
    # Past today's sweep (10:00): the recalls due now go at tomorrow's, wherever earlier
    # tests left the shared clock (alone, the suite starts at 08:00 and they went today).
    control.advance_to(max(control.now(), s.local(0, 12)))
    for patient in ("result", "health", "viewed"):
        s.patient(patient, **APP_PATIENT)
    _due(s, "result", control.now(), category="result")
    _due(s, "health", control.now(), category="health")
    _due(s, "viewed", control.now(), category="result")
    times = [s.local(1, 10, 1), s.local(1, 11, 59), s.local(1, 12, 1), s.local(2, 10, 1)]
    control.advance_to(times[0])
    pushes = _recalls(s, channel="push")
    assert sorted(r["patient_id"] for r in pushes) == ["health", "result", "viewed"]
    viewed_push = next(r for r in pushes if r["patient_id"] == "viewed")
    assert browser.book_from_recall(browser.recall_token_in(viewed_push["link"])).status_code == 303
    # A link scanner that opens every link records nothing: the others still escalate.
    for push in pushes:
        assert browser.open_recall(browser.recall_token_in(push["link"])).status_code == 200

    control.advance_to(times[1])
    assert _recalls(s, channel="sms") == []
    control.advance_to(times[2])
    sms = _recalls(s, channel="sms")
    assert [(r["patient_id"], _local_hm(s, r)) for r in sms] == [("result", "12:00")]
    control.advance_to(times[3])
    sms = _recalls(s, channel="sms")
    assert sorted((r["patient_id"], _local_hm(s, r)) for r in sms) == [("health", "10:00"), ("result", "12:00")]


def test_k4_blocked_number_gets_no_recall_sms_automated_or_manual_until_unblocked(scenario, control):
    s = scenario(recalls_enabled=True)
    for i in range(1, 4):
        s.patient(f"p{i}", phone=f"601 234 56{i}")
    put = s.pms.call("PUT", "blocked-numbers/+48601234562", {"blocked_recalls": True})
    assert put.status_code == 200, put.text
    assert s.pms.get("blocked-numbers").json()["numbers"][0]["number"] == "+48601234562"
    for i in range(1, 4):
        _due(s, f"p{i}", control.now())
    control.advance_to(s.local(1, 10, 5))
    assert sorted(r["patient_id"] for r in _recalls(s, channel="sms")) == ["p1", "p3"]
    ledger = s.pms.get("patients/p2/messages").json()["messages"]
    assert [(m["status"], m["reason"]) for m in ledger if (m["kind"], m["channel"]) == ("recall", "sms")] == [
        ("skipped", BLOCKED_REASON)
    ]

    manual = s.pms.call("POST", "recalls", {"patient_id": "p2", "recall_type": "checkup"})
    assert manual.status_code == 202 and manual.json()["warnings"] == [BLOCKED_REASON]
    control.advance(60)
    assert "p2" not in {r["patient_id"] for r in _recalls(s, channel="sms")}

    assert s.pms.call("PUT", "blocked-numbers/+48601234562", {"blocked_recalls": False}).status_code == 200
    control.advance(60)
    manual = s.pms.call("POST", "recalls", {"patient_id": "p2", "recall_type": "checkup"})
    assert manual.status_code == 202 and manual.json()["warnings"] == []
    control.advance(60)
    assert [r["patient_id"] for r in _recalls(s, "p2", channel="sms")] == ["p2"]
    bad = s.pms.call("PUT", "blocked-numbers/123456", {"blocked_recalls": True})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "number"


def test_k5_no_marketing_asks_the_sender_to_confirm_manual_but_not_automated_recalls(scenario, control):
    s = scenario(recalls_enabled=True)
    s.patient("p1", no_marketing=True)
    asked = s.pms.call("POST", "recalls", {"patient_id": "p1", "recall_type": "checkup"})
    assert asked.status_code == 409
    assert asked.json()["status"] == "needs_confirmation"
    assert asked.json()["fields"][0]["field"] == "confirmed"
    control.advance(60)
    assert _recalls(s) == []
    confirmed = s.pms.call("POST", "recalls", {"patient_id": "p1", "recall_type": "checkup", "confirmed": True})
    assert confirmed.status_code == 202
    control.advance(60)
    assert len(_recalls(s, "p1")) == 1
    _due(s, "p1", control.now())  # automated: goes ahead without asking
    control.advance_to(s.local(1, 10, 5))
    assert len(_recalls(s, "p1")) == 2
    unknown = s.pms.call("POST", "recalls", {"patient_id": "nobody", "recall_type": "checkup"})
    assert unknown.status_code == 404


def test_k6_statistics_count_each_feature_once_per_practice_day(scenario, control, browser, local_stack):
    s = scenario(recalls_enabled=True)
    for patient in ("p1", "p2", "p3"):
        s.patient(patient)
    s.book("a1", "p1", s.local(5))
    s.book("a2", "p2", s.local(6))
    assert s.tap("a1", "confirm").status_code == 200
    assert s.tap("a2", "cancel").status_code == 200
    # A second tap (a stale page) changes nothing and counts nothing.
    assert browser.post(s.token("a1"), "confirm").status_code == 200
    assert browser.post(s.token("a2"), "cancel").status_code == 200
    _due(s, "p3", control.now())  # p1 has a next appointment: not recalled
    day = s.local(1).astimezone(ZoneInfo("Europe/Warsaw")).date()
    control.advance_to(s.local(1, 10, 5))
    report = s.pms.get(
        "statistics", **{"from": (day - timedelta(days=1)).isoformat(), "to": day.isoformat()}
    ).json()
    totals = report["totals"]
    assert totals["confirmations"] == 1 and totals["cancellations"] == 1
    assert totals["recalls_sent_sms"] == 1 and totals["recalls_sent_push"] == 0
    sms_rows = s.messages(channel="sms")
    sms_parts = sum(r["segments"] for r in sms_rows)
    assert totals["sms_parts"] == sms_parts == s.sms_used(sms_rows)
    assert [d["day"] for d in report["days"]] == [(day - timedelta(days=1)).isoformat(), day.isoformat()]
    assert report["days"][1]["recalls_sent_sms"] == 1
    # Each feature is a CloudWatch metric too (EMF, written to the local handler log).
    log = local_stack.log_file.read_text()
    for metric in ("Usage_confirmations", "Usage_cancellations", "Usage_recalls_sent_sms", "Usage_sms_parts"):
        assert metric in log
    bad = s.pms.get("statistics", **{"from": "yesterday"})
    assert bad.status_code == 422


def test_k2_a_pms_recall_dated_in_local_time_has_a_working_link(scenario, control, browser):
    """A PMS dates its recall list in its own time (`2026-03-27T08:00:00+01:00`). The link the
    patient gets must open the recall: its token is made from the recall's due minute, in
    UTC wherever it is computed (intake wrote the item, the sender reads it back)."""
    s = scenario(recalls_enabled=True)
    s.patient("p1")
    due = s.local(1, 8).astimezone(ZoneInfo("Europe/Warsaw"))
    assert due.utcoffset() != timedelta(0)
    _due(s, "p1", due)
    control.advance_to(s.local(1, 10, 5))
    (sent,) = _recalls(s, "p1")
    token = browser.recall_token_in(sent["text"])
    assert browser.open_recall(token).status_code == 200
    assert browser.book_from_recall(token).status_code == 303

"""Every appointment message kind and channel rule over HTTP (R6-R9, C4, C7, C8, B3, B5, B7)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .conftest import APP_PATIENT

VETERAN = {**APP_PATIENT, "email": "jan@example.com"}


def _attended_platform_patient(s, patient_id: str = "pat") -> None:
    """C3: a patient whose earlier platform booking was attended gets push for practice bookings."""
    s.patient(patient_id, **VETERAN)
    s.book(f"{patient_id}-old", patient_id, s.local(0, 23, 30) - timedelta(hours=2), source="app")
    s.change("appointment.attended", {"appointment_id": f"{patient_id}-old"})


def test_r6_practice_booking_notice_by_email_and_push_then_sms_after_4h(scenario, control):
    s = scenario(uses_email=True)
    _attended_platform_patient(s)
    control.advance_to(s.local(1, 9))
    s.book("a1", "pat", s.local(6))
    first = s.messages("a1", kind="confirmation")
    assert {r["channel"] for r in first} == {"email", "push"}
    control.advance(5 * 3600)
    sms = s.messages("a1", kind="confirmation", channel="sms")
    assert len(sms) == 1
    assert s.at(sms[0]) - s.at(first[0]) == timedelta(hours=4)


def test_r6_opened_notice_is_not_followed_by_sms(scenario, control, browser):
    s = scenario(uses_email=True)
    _attended_platform_patient(s)
    control.advance_to(s.local(1, 9))
    s.book("a1", "pat", s.local(6))
    (push,) = s.messages("a1", kind="confirmation", channel="push")
    token = browser.token_in(push["link"])
    receipt = browser.http.post(
        f"{browser.base}/l/{token}/receipt", json={"message_id": push["message_id"]}, timeout=30
    )
    assert receipt.status_code == 200 and receipt.json()["status"] == "opened"
    control.advance(5 * 3600)
    assert s.messages("a1", kind="confirmation", channel="sms") == []


def test_c4_push_opens_the_appointment_with_confirm_and_cancel(scenario, control, local_stack):
    from moto.sns.models import sns_backends

    s = scenario()
    s.patient("pat", **APP_PATIENT)
    s.book("a1", "pat", s.local(4), source="app")
    (row,) = s.messages("a1", kind="confirmation", channel="push")
    sns = sns_backends["123456789012"]["eu-central-1"]
    payloads = [json.loads(m) for e in sns.platform_endpoints.values() for mid, m in e.messages.items() if mid]
    mine = [
        p
        for p in payloads
        if json.loads(p["GCM"])["data"]["message_id"] == row["message_id"]
        and json.loads(p["GCM"])["data"]["practice_id"] == s.pms.practice_id
    ]
    assert len(mine) == 1
    data = json.loads(mine[0]["GCM"])["data"]
    assert data["deep_link"] == "app://appointments/a1"
    assert data["actions"] == "confirm,cancel"
    assert json.loads(mine[0]["APNS"])["aps"]["category"] == "APPOINTMENT_ACTIONS"


def test_r7_review_request_2h_after_an_attended_app_booking(scenario, control):
    s = scenario(review_url="https://reviews.example.com/harbour")
    s.patient("pat")
    start = s.local(1, 10)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start + timedelta(minutes=30))
    s.change("appointment.attended", {"appointment_id": "a1"})
    control.advance(3 * 3600)
    (review,) = s.messages("a1", kind="review_request")
    assert s.due(review) == start + timedelta(minutes=30) + timedelta(hours=2)
    assert "https://reviews.example.com/harbour" in review["text"]


def test_r7_practice_bookings_get_a_review_request_only_if_enabled(scenario, control):
    for enabled in (False, True):
        s = scenario(review_url="https://r.example.com", review_for_practice_bookings=enabled)
        s.patient("pat")
        start = s.local(1, 10)
        s.book("a1", "pat", start)
        control.advance_to(start + timedelta(minutes=30))
        s.change("appointment.attended", {"appointment_id": "a1"})
        control.advance(3 * 3600)
        assert len(s.messages("a1", kind="review_request")) == int(enabled)


def test_r8_rebooking_prompt_unless_a_next_appointment_is_booked(scenario, control):
    s = scenario()
    for pid in ("alone", "rebooked"):
        s.patient(pid)
        s.book(f"{pid}-1", pid, s.local(1, 10))
    s.book("rebooked-2", "rebooked", s.local(30, 10))
    control.advance_to(s.local(1, 10, 30))
    for pid in ("alone", "rebooked"):
        s.change("appointment.attended", {"appointment_id": f"{pid}-1"})
    control.advance(24 * 3600)
    (prompt,) = s.messages("alone-1", kind="rebooking_prompt")
    assert "https://book.example.com/harbour" in prompt["text"]
    assert s.at(prompt) - s.local(1, 10, 30) <= timedelta(hours=24)
    assert s.messages("rebooked-1", kind="rebooking_prompt") == []
    reasons = [r["reason"] for r in control.skipped(s.pms.practice_id) if r["appointment_id"] == "rebooked-1"]
    assert "next appointment already booked" in reasons


def test_r9_notifications_switched_off_for_one_appointment(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("quiet", "pat", s.local(5), notifications_enabled=False)
    s.book("loud", "pat", s.local(5, 15))
    s.book("later-off", "pat", s.local(5, 16))
    s.change("appointment.notifications", {"appointment_id": "later-off", "enabled": False})
    control.advance_to(s.local(5, 17))
    assert s.messages("quiet") == []
    assert {r["kind"] for r in s.messages("loud")} == {"confirmation", "reminder"}
    assert {r["kind"] for r in s.messages("later-off")} == {"confirmation"}


def test_c7_at_the_quota_sms_stop_fall_back_to_email_and_the_practice_sees_it(scenario, control):
    s = scenario(sms_quota=5, uses_email=True)
    for i in range(6):
        s.patient(f"p{i}", email=f"p{i}@example.com")
        s.book(f"a{i}", f"p{i}", s.local(5), source="portal")
    sms = s.messages(kind="confirmation", channel="sms")
    assert len(sms) == 5
    usage = s.pms.get("usage").json()
    assert usage["sms_used"] == 5 and usage["warning"] and usage["exhausted"]
    month = s.at(sms[0]).strftime("%Y-%m")
    assert s.pms.get("usage", month=month).json() == usage
    last_year = s.pms.get("usage", month=f"{int(month[:4]) - 1}{month[4:]}").json()
    assert (last_year["sms_used"], last_year["exhausted"]) == (0, False)
    bad = s.pms.get("usage", month="2026-13")
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "month"
    types = [n["type"] for n in s.pms.get("notices").json()["notices"]]
    assert types == ["sms.quota_warning", "sms.quota_reached"]
    reasons = [r["reason"] for r in control.skipped(s.pms.practice_id) if r["appointment_id"] == "a5"]
    assert "monthly SMS quota reached" in reasons


def test_c8_a_calendar_can_have_its_own_settings(scenario, control):
    from ops.practice import configure

    s = scenario()
    configure(
        s.pms.practice_id,
        name="Harbour Dental",
        timezone="Europe/Warsaw",
        country="PL",
        calendars={"hygiene": {"reminder_policy": "fixed", "fixed_offset_hours": 6}},
    )
    s.patient("pat")
    start = s.local(5, 16)
    s.book("main", "pat", start)
    s.book("hyg", "pat", start + timedelta(hours=1), calendar_id="hygiene")
    control.advance_to(start + timedelta(hours=2))
    (main,) = s.messages("main", kind="reminder")
    (hyg,) = s.messages("hyg", kind="reminder")
    assert start - s.due(main) == timedelta(hours=48)
    assert start + timedelta(hours=1) - s.due(hyg) == timedelta(hours=6)


def test_b3_a_practice_can_override_a_template(scenario, control):
    override = (
        "{% block sms %}Hi from {{ practice }}: {{ when_short }} {{ link }}{% endblock %}"
        "{% block push_title %}t{% endblock %}{% block push_body %}b{% endblock %}"
        "{% block email_subject %}s{% endblock %}{% block email_text %}e{% endblock %}"
    )
    s = scenario(templates={"en/confirmation.j2": override})
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    (sms,) = s.messages("a1", kind="confirmation")
    assert sms["text"].startswith("Hi from Harbour Dental: ")


def test_b3_polish_patient_gets_polish_text_in_practice_time(scenario, control):
    s = scenario(locale="pl")
    s.patient("pat", locale="pl")
    s.book("a1", "pat", s.local(5, 14, 30))
    (sms,) = s.messages("a1", kind="confirmation")
    assert "wizyta" in sms["text"] and "14:30" in sms["text"]


def test_b5_ledger_per_appointment_and_per_patient(scenario, control):
    s = scenario()
    s.patient("pat", **APP_PATIENT)
    start = s.local(4)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start - timedelta(hours=45))
    report = s.pms.get("appointments/a1").json()
    statuses = {(m["kind"], m["channel"]): m["status"] for m in report["messages"]}
    assert statuses == {
        ("confirmation", "push"): "sent",
        ("reminder", "schedule"): "fired",
        ("reminder", "push"): "escalated",
        ("reminder", "sms"): "sent",
    }
    escalated = next(m for m in report["messages"] if m["status"] == "escalated")
    assert [h["status"] for h in escalated["history"]] == ["planned", "sent", "escalated"]
    by_patient = s.pms.get("patients/pat/messages").json()["messages"]
    assert len(by_patient) == 4
    assert s.pms.get("appointments/nope").status_code == 404


def test_b5_ledger_shows_planned_messages_until_fired_or_withdrawn(scenario, control):
    s = scenario()
    s.patient("pat")
    start = s.local(5)
    s.book("a1", "pat", start)

    def plan_rows() -> list[dict]:
        messages = s.pms.get("appointments/a1").json()["messages"]
        return [m for m in messages if m["channel"] == "schedule"]

    (planned,) = plan_rows()
    assert (planned["kind"], planned["status"]) == ("reminder", "planned")
    assert datetime.fromisoformat(planned["due_at"]) == start - timedelta(hours=48)

    moved = start + timedelta(days=2)
    s.change(
        "appointment.rescheduled",
        {"appointment_id": "a1", "start": moved.isoformat(), "end": (moved + timedelta(minutes=30)).isoformat()},
    )
    rows = {m["message_id"]: m for m in plan_rows()}
    assert {(m["status"], m["reason"]) for m in rows.values()} == {
        ("cancelled", "appointment rescheduled"),
        ("planned", None),
    }

    control.advance_to(moved - timedelta(hours=47))
    rows = {m["message_id"]: m for m in plan_rows()}
    assert rows["a1#reminder#v2"]["status"] == "fired"
    assert [h["status"] for h in rows["a1#reminder#v2"]["history"]] == ["planned", "fired"]
    assert [h["status"] for h in rows["a1#reminder#v1"]["history"]] == ["planned", "cancelled"]
    by_patient = s.pms.get("patients/pat/messages").json()["messages"]
    assert {m["message_id"] for m in by_patient if m["channel"] == "schedule"} == set(rows)

    s.change("appointment.cancelled", {"appointment_id": "a1"})
    assert rows["a1#reminder#v2"] == {m["message_id"]: m for m in plan_rows()}["a1#reminder#v2"]

    s.book("a2", "pat", s.local(9))
    s.change("appointment.cancelled", {"appointment_id": "a2"})
    (withdrawn,) = [m for m in s.pms.get("appointments/a2").json()["messages"] if m["channel"] == "schedule"]
    assert (withdrawn["status"], withdrawn["reason"]) == ("cancelled", "appointment cancelled")


def test_b7_opted_out_number_gets_no_sms_and_the_skip_is_recorded(scenario, control):
    s = scenario(uses_email=True)
    # The emulated provider reports numbers ending in 99 as opted out (STOP).
    s.patient("pat", phone="601 234 599", email="jan@example.com")
    s.book("a1", "pat", s.local(5), source="portal")
    assert s.messages("a1", channel="sms") == []
    assert len(s.messages("a1", channel="email")) == 1
    reasons = [r["reason"] for r in control.skipped(s.pms.practice_id) if r["appointment_id"] == "a1"]
    assert "number opted out (STOP)" in reasons


def test_c3_the_practice_registers_the_app_device_and_later_messages_go_by_push(scenario, control, browser):
    """The app signs in with the practice's system, which registers the device with a
    signed patient event; holding a reminder link is not enough to re-point a patient's
    push (there is no device route on the link)."""
    s = scenario()
    s.patient("pat")
    start = s.local(5)
    s.book("a1", "pat", start, source="app")
    (sms,) = s.messages("a1", kind="confirmation")
    assert sms["channel"] == "sms"
    token = browser.token_in(sms["link"])
    hijack = browser.http.post(
        f"{browser.base}/l/{token}/device", json={"device_token": "attacker", "platform": "android"}, timeout=30
    )
    assert hijack.status_code in (403, 404, 405, 422)  # API Gateway or the action check refuses
    bad = s.pms.send("patient.upserted", {"patient_id": "pat", "has_app": True, "platform": "nokia"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "data.platform"
    s.patient("pat", has_app=True, push_enabled=True, device_token="fcm-token-123456", platform="android")
    control.advance_to(start - timedelta(hours=47))
    assert [r["channel"] for r in s.messages("a1", kind="reminder")] == ["push"]


def test_c3_b9_a_visit_attended_before_the_patients_record_arrived_counts_when_it_comes(
    scenario, control, aws_requests
):
    """The PMS sends an app booking and its attended visit before the patient's record
    (B9: deliveries come in any order). The outcome is applied and counted (A1; it was a
    502 before, and its retry a duplicate that counted nothing), and the attended platform
    booking is written in the visit's own transaction: once the patient's record comes,
    with the app, the practice's next booking goes by push (C3)."""
    s = scenario()
    visit = s.local(1, 10)
    s.book("a1", "late", visit, source="app")
    control.advance_to(visit + timedelta(hours=1))
    aws_requests.clear()
    response = s.pms.send("appointment.attended", {"appointment_id": "a1"})
    assert response.status_code == 202, response.text
    patient_key = "PATIENT#late"
    assert not [p for op, p in aws_requests if op == "UpdateItem" and p["Key"]["sk"]["S"] == patient_key]
    (visit_write,) = [
        p for op, p in aws_requests if op == "TransactWriteItems" and "APPT#a1" in str(p["TransactItems"])
    ]
    assert [i["Update"]["Key"]["sk"]["S"] for i in visit_write["TransactItems"] if "Update" in i] == [patient_key]
    totals = s.pms.get("outcomes", **{"from": "2000-01-01", "to": "2100-01-01"}).json()["totals"]
    assert totals["attended"] == 1, totals

    s.patient("late", has_app=True, push_enabled=True, device_token="fcm-token-late-01", platform="android")
    s.book("a2", "late", s.local(9), source="practice")
    assert [r["channel"] for r in s.messages("a2", kind="confirmation")] == ["push"]


def test_r6_notice_without_app_or_email_goes_by_sms_and_shows_no_phantom_push(scenario, control):
    s = scenario(uses_email=True)
    s.patient("pat", email="jan@example.com")
    control.advance_to(s.local(1, 9))
    s.book("a1", "pat", s.local(6))
    control.advance(5 * 3600)
    rows = s.messages("a1", kind="confirmation")
    assert [r["channel"] for r in rows] == ["email", "sms"]


def test_c5_a_patient_no_channel_reaches_is_reported_to_the_practice_once_per_message(scenario, control):
    """No app, a landline, no email: neither the confirmation nor the reminder can go.
    The practice hears of each, once however often its delivery runs (B4), with each
    channel's reason, so the reception can phone; a reachable patient raises nothing."""
    s = scenario()
    s.patient("landline", phone="22 123 45 67")  # a Warsaw landline: no SMS (C5)
    s.patient("mobile")
    start = s.local(5)
    control.duplicate_deliveries(True)
    try:
        s.book("a1", "landline", start)
        s.book("a2", "mobile", start + timedelta(hours=1))
        control.advance_to(start - timedelta(hours=47))
    finally:
        control.duplicate_deliveries(False)
    assert s.messages("a1") == [] and s.messages("a2")
    notices = [n for n in s.pms.get("notices").json()["notices"] if n["type"] == "patient.unreachable"]
    assert [n["data"]["message"] for n in notices] == ["confirmation", "reminder"]
    assert notices[0]["data"] == {
        "appointment_id": "a1",
        "patient_id": "landline",
        "message": "confirmation",
        "reasons": {
            "push": "patient does not have the app",
            "sms": "no valid mobile number",
            "email": "no valid email address",
        },
    }


def test_c5_a_bounced_address_is_marked_and_not_used_again(scenario, control):
    """SES reports bounces only through the configuration set's event destination; the
    local stack's mailbox simulator produces them as AWS's does."""
    s = scenario(uses_email=True)
    s.patient("pat", email="bounce@simulator.amazonses.com")
    start = s.local(5)
    s.book("a1", "pat", start, source="portal")
    assert sorted(r["channel"] for r in s.messages("a1", kind="confirmation")) == ["email", "sms"]
    control.advance_to(start - timedelta(hours=47))
    reminders = s.messages("a1", kind="reminder")
    assert [r["channel"] for r in reminders] == ["sms"]
    reasons = [
        r["reason"]
        for r in control.skipped(s.pms.practice_id)
        if (r["appointment_id"], r["kind"], r["channel"]) == ("a1", "reminder", "email")
    ]
    assert reasons == ["email address bounced"]
    # A new address from the PMS gets its chance again.
    s.patient("pat", email="jan@example.com")
    s.book("a2", "pat", s.local(9), source="portal")
    assert sorted(r["channel"] for r in s.messages("a2", kind="confirmation")) == ["email", "sms"]


def test_c5_a_spam_complaint_stops_email_to_that_address(scenario, control):
    s = scenario(uses_email=True)
    s.patient("pat", email="complaint@simulator.amazonses.com", phone="")
    s.book("a1", "pat", s.local(5), source="portal")
    s.book("a2", "pat", s.local(6), source="portal")
    assert len(s.messages("a1", kind="confirmation", channel="email")) == 1
    assert s.messages("a2", channel="email") == []
    assert "email address bounced" in [
        r["reason"] for r in control.skipped(s.pms.practice_id) if r["appointment_id"] == "a2"
    ]

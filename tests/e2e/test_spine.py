"""The spine end to end over HTTP: booking -> confirmation -> reminder -> push -> unread
-> SMS fallback (R1-R4, C1, C2, B4)."""

from __future__ import annotations

import json
from datetime import timedelta

from .conftest import APP_PATIENT, NOTICE_DELAY


def test_r1_confirmation_goes_out_once_the_booking_settled_with_details_and_instructions(scenario, control):
    s = scenario(uses_email=True, after_booking_instructions="Bring your ID card.")
    s.patient("pat", email="jan@example.com")
    booked = control.now()
    s.book("a1", "pat", booked + timedelta(days=5), practitioner="dr Ewa Zielińska", source="portal")
    sms = s.messages("a1", kind="confirmation", channel="sms")
    email = s.messages("a1", kind="confirmation", channel="email")
    assert len(sms) == 1 and len(email) == 1
    assert s.at(sms[0]) == booked + NOTICE_DELAY  # B9: the PMS's burst of edits has settled
    assert "Harbour Dental" in sms[0]["text"] and "/l/" in sms[0]["text"]
    assert "Bring your ID card." in email[0]["text"]
    assert sms[0]["delivered_to_provider"] and email[0]["delivered_to_provider"]


def test_r2_lead_over_72h_reminds_48h_before_start(scenario, control):
    s = scenario()
    s.patient("pat")
    start = s.local(4)
    s.book("a1", "pat", start)
    control.advance_to(start + timedelta(hours=1))
    (reminder,) = s.messages("a1", kind="reminder")
    assert s.due(reminder) == start - timedelta(hours=48)


def test_r2_booked_50h_ahead_reminds_24h_before(scenario, control):
    s = scenario()
    s.patient("pat")
    control.advance_to(s.local(1, 9))
    start = control.now() + timedelta(hours=50)
    s.book("a1", "pat", start)
    control.advance(50 * 3600)
    (reminder,) = s.messages("a1", kind="reminder")
    assert s.due(reminder) == start - timedelta(hours=24)


def test_r2_booked_30h_ahead_gets_no_reminder(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", control.now() + timedelta(hours=30))
    control.advance(31 * 3600)
    assert s.messages("a1", kind="reminder") == []
    assert len(s.messages("a1", kind="confirmation")) == 1


def test_r2_fixed_offset_policy_reminds_24h_before(scenario, control):
    s = scenario(reminder_policy="fixed", fixed_offset_hours=24)
    s.patient("pat")
    start = s.local(6)
    s.book("a1", "pat", start)
    control.advance_to(start)
    (reminder,) = s.messages("a1", kind="reminder")
    assert s.due(reminder) == start - timedelta(hours=24)


def test_r3_reschedule_replaces_the_pending_reminder(scenario, control):
    s = scenario()
    s.patient("pat")
    start = s.local(5)
    s.book("a1", "pat", start)
    control.advance(3600)
    moved = start + timedelta(days=2)
    s.change(
        "appointment.rescheduled",
        {"appointment_id": "a1", "start": moved.isoformat(), "end": (moved + timedelta(minutes=30)).isoformat()},
    )
    (notice,) = s.messages("a1", kind="reschedule")
    assert notice["kind"] == "reschedule"
    control.advance(7 * 86400)
    reminders = s.messages("a1", kind="reminder")
    assert [s.due(r) for r in reminders] == [moved - timedelta(hours=48)]


def test_r3_cancellation_removes_pending_messages(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", control.now() + timedelta(days=5))
    assert control.schedules(s.pms.practice_id) == [f"{s.pms.practice_id}.a1.reminder.v1"]
    s.change("appointment.cancelled", {"appointment_id": "a1"})
    assert control.schedules(s.pms.practice_id) == []
    control.advance(6 * 86400)
    assert s.messages("a1", kind="reminder") == []
    (notice,) = s.messages("a1", kind="cancellation")
    assert notice["channel"] == "sms"


def test_r5_cancellation_notice_never_shows_the_internal_reason(scenario, control):
    s = scenario(uses_email=True)
    s.patient("pat", email="jan@example.com")
    s.book("a1", "pat", control.now() + timedelta(days=5))
    s.change("appointment.cancelled", {"appointment_id": "a1", "internal_reason": "not excused: unpaid invoice"})
    notices = s.messages("a1", kind="cancellation")
    assert {n["channel"] for n in notices} == {"sms", "email"}
    for notice in notices:
        assert "excused" not in notice["text"] and "unpaid" not in notice["text"]


def test_r4_link_page_offers_confirm_cancel_reschedule_and_confirms(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", control.now() + timedelta(days=5))
    token = s.token("a1")
    page = s.browser.open(token)
    assert page.status_code == 200
    assert "Harbour Dental" in page.text
    for action in ("/confirm", "/cancel", "/reschedule"):
        assert f"/l/{token}{action}" in page.text
    confirmed = s.tap("a1", "confirm")
    assert confirmed.status_code == 200 and "Confirmed. See you soon!" in confirmed.text
    reopened = s.browser.http.get(s.link("a1"), timeout=30).text
    # Once confirmed, the page says so and no longer offers to confirm.
    assert "You confirmed this appointment." in reopened and f"/l/{token}/confirm" not in reopened
    assert f"/l/{token}/cancel" in reopened


def test_r4_reschedule_link_goes_to_the_practice_booking_page(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", control.now() + timedelta(days=5))
    response = s.browser.http.get(
        f"{s.browser.base}/l/{s.token('a1')}/reschedule", allow_redirects=False, timeout=30
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://book.example.com/harbour"


def test_r4_cancel_from_the_link_removes_the_reminder(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", control.now() + timedelta(days=5))
    assert s.tap("a1", "cancel").status_code == 200
    control.advance(6 * 86400)
    assert s.messages("a1", kind="reminder") == []
    assert s.browser.post(s.token("a1"), "confirm").status_code == 409


def test_r4_unknown_or_malformed_tokens_are_404(local_stack, browser):
    assert browser.open("A" * 16).status_code == 404
    assert browser.open("short").status_code in (400, 404, 422)
    assert browser.post("A" * 16, "confirm").status_code == 404


def test_c1_unanswered_reminder_push_is_followed_by_sms_2h_later(scenario, control):
    s = scenario()
    s.patient("pat", **APP_PATIENT)
    start = s.local(4)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start + timedelta(hours=1))
    push = s.messages("a1", kind="reminder", channel="push")
    sms = s.messages("a1", kind="reminder", channel="sms")
    assert len(push) == 1 and len(sms) == 1
    assert s.at(sms[0]) - s.at(push[0]) == timedelta(hours=2)
    assert push[0]["status"] == "escalated"


def test_c1_the_sms_and_the_push_it_escalates_are_recorded_in_one_transaction(scenario, control, aws_requests):
    """Issue 16: one request records the SMS as sent, keeps its text (P2), marks the
    unanswered push escalated and makes the SMS what an answer refers to (T1); never an
    SMS sent with its push still waiting for an answer."""
    s = scenario()
    s.patient("pat", **APP_PATIENT)
    start = s.local(4)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start + timedelta(hours=1))
    writes = [
        [(next(iter(action)), json.dumps(action)) for action in params["TransactItems"]]
        for op, params in aws_requests
        if op == "TransactWriteItems" and '"a1#reminder#' in json.dumps(params) and "#sms" in json.dumps(params)
    ]
    assert len(writes) == 1
    kinds = [kind for kind, _ in writes[0]]
    assert kinds.count("Update") == 2 and kinds.count("Put") == 2  # the row and the push; its text and T1's thread
    assert any('"THREAD#' in text for kind, text in writes[0] if kind == "Put")
    assert any('#push"' in text and "escalated" in text for kind, text in writes[0] if kind == "Update")
    push = s.messages("a1", kind="reminder", channel="push")
    assert push[0]["status"] == "escalated"


def test_c1_confirming_from_the_push_stops_the_sms(scenario, control):
    s = scenario()
    s.patient("pat", **APP_PATIENT)
    start = s.local(4)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start - timedelta(hours=47))  # pushed within its window; escalation 2h after
    assert len(s.messages("a1", kind="reminder", channel="push")) == 1
    assert s.tap("a1", "confirm").status_code == 200
    control.advance(4 * 3600)
    assert s.messages("a1", kind="reminder", channel="sms") == []


def test_c2_no_fallback_appointment_type_never_gets_the_sms(scenario, control):
    s = scenario()
    s.patient("pat", **APP_PATIENT)
    start = s.local(4)
    s.book("a1", "pat", start, source="app", appointment_type="COVID-19 vaccine")
    control.advance_to(start + timedelta(hours=1))
    assert len(s.messages("a1", kind="reminder", channel="push")) == 1
    assert s.messages("a1", channel="sms") == []


def test_b4_webhook_retry_with_the_same_event_id_is_applied_once(scenario, control):
    s = scenario()
    s.patient("pat")
    start = s.local(5)
    data = {
        "appointment_id": "a1",
        "patient_id": "pat",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
    }
    first = s.pms.send("appointment.created", data, event_id="evt-1")
    second = s.pms.send("appointment.created", data, event_id="evt-1")
    assert first.json()["status"] == "applied"
    assert second.status_code == 202 and second.json()["status"] == "duplicate"
    s.settle()
    assert len(s.messages("a1", kind="confirmation")) == 1


def test_c1_same_appointment_id_in_two_practices_escalates_in_both(scenario, control):
    """Ids are unique per practice only: schedules and executions must not collide."""
    practices = [scenario(), scenario()]
    start = practices[0].local(4)
    for s in practices:
        s.patient("pat", **APP_PATIENT)
        s.book("a1", "pat", start, source="app")
    control.advance_to(start - timedelta(hours=45))
    for s in practices:
        assert len(s.messages("a1", kind="reminder", channel="sms")) == 1

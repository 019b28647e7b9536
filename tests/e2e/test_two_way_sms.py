"""Patients answer our texts (T1) and stop or restart them by keyword (T2), through the
local stack's inbound SMS route (what End User Messaging SMS publishes on AWS)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notify.domain.replies import Reply, parse_reply

from .conftest import own_mobile

OURS = "+48732000000"  # the local stack's Polish origination number


def _patient(s, patient_id: str = "pat") -> str:
    """A patient with a number of their own (a conversation is per pair of numbers: other
    tests' practices text the scenario's default number too); returns it in E.164."""
    digits = own_mobile()
    s.patient(patient_id, phone=digits)
    return f"+48{digits}"


def _answers(s, **match) -> list[dict]:
    return s.messages(kind="reply", **match)


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("1", Reply.CONFIRM),
        (" 1. ", Reply.CONFIRM),
        ("1 thanks, see you!", Reply.CONFIRM),
        ("2", Reply.CANCEL),
        ("2!", Reply.CANCEL),
        ("STOP", Reply.STOP),
        ("stop.", Reply.STOP),
        ("Arrêt", Reply.STOP),
        ("STOP SMS", Reply.STOP),
        ("rezygnuję", Reply.STOP),
        ("CANCEL", Reply.STOP),  # an opt-out keyword: never our cancel
        ("Opt out", Reply.STOP),
        ("please don't stop reminding me", Reply.OTHER),
        ("START", Reply.START),
        ("unstop", Reply.START),
        ("12", Reply.OTHER),
        ("yes", Reply.OTHER),
        ("", Reply.OTHER),
    ],
)
def test_t1_t2_replies_are_read_in_every_language_and_shape(text, reply):
    assert parse_reply(text) is reply


def test_t1_reply_1_confirms_as_the_link_page_would_and_says_so_once(scenario, control):
    s = scenario()
    number = _patient(s)
    s.book("a1", "pat", s.local(5))
    (sms,) = s.messages("a1", kind="confirmation")
    assert "Odpisz 1 = potwierdz, 2 = odwolaj" in sms["text"] or "Reply 1 to confirm, 2 to cancel" in sms["text"]
    inbound = control.text(number, "1 dziekuje")
    control.text(number, "1 dziekuje", message_id=inbound)  # delivered twice: acts once
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "confirmed"
    (answer,) = _answers(s)
    assert answer["channel"] == "sms" and "confirmed" in answer["text"]
    assert control.sms_received(number) == [sms["text"], answer["text"]]  # the provider's count
    notices = [n for n in s.pms.get("notices").json()["notices"] if n["type"] == "appointment.confirmed"]
    assert [n["data"]["via"] for n in notices] == ["sms reply"]


def test_t1_reply_2_cancels_releases_the_slot_and_withdraws_the_reminder(scenario, control):
    s = scenario()
    # By day, whatever the shared clock's hour: at night the offer waits for the end of
    # quiet hours (B2), and the test would depend on which tests ran before it.
    control.advance_to(s.local(1, 10))
    number = _patient(s)
    _patient(s, "later")
    start = s.local(3)
    s.book("a1", "pat", start)
    s.book("b1", "later", start + timedelta(days=3))
    control.text(number, "2")
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "cancelled"
    (answer,) = _answers(s)
    assert "https://book.example.com/harbour" in answer["text"]
    s.settle()
    assert [o["appointment_id"] for o in s.messages(kind="slot_offer")] == ["b1"]  # F1
    control.advance_to(start)
    assert s.messages("a1", kind="reminder") == []  # R3


def test_t1_anything_else_gets_one_helpful_answer_and_reaches_the_practice(scenario, control):
    s = scenario()
    number = _patient(s)
    s.book("a1", "pat", s.local(5))
    control.text(number, "Czy moge przyjsc z corka?")
    control.text(number, "Halo?")
    (answer,) = _answers(s)
    assert "reply 1 to confirm, 2 to cancel" in answer["text"].lower() and "/l/" in answer["text"]
    messages = [n for n in s.pms.get("notices").json()["notices"] if n["type"] == "patient.message"]
    assert [m["data"]["text"] for m in messages] == ["Czy moge przyjsc z corka?"]
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "booked"


def test_t2_stop_stops_sms_from_that_practice_at_once_start_restores_them(scenario, control):
    s = scenario()
    number = _patient(s)
    start = s.local(6)
    s.book("a1", "pat", start)
    control.text(number, "STOP")
    (stopped,) = _answers(s)
    assert "START" in stopped["text"]
    consent = s.pms.get("sms-consent").json()["numbers"]
    assert [(c["number"], c["sms_stopped"]) for c in consent] == [(number, True)]
    assert consent[0]["history"][0]["source"] == "sms keyword" and consent[0]["history"][0]["text"] == "STOP"
    control.advance_to(start - timedelta(hours=47))
    reminders = s.pms.get("appointments/a1").json()["messages"]
    sms = [m for m in reminders if (m["kind"], m["channel"]) == ("reminder", "sms")]
    assert [(m["status"], m["reason"]) for m in sms] == [
        ("skipped", "patient stopped SMS from this practice (STOP)")
    ]
    control.text(number, "START")
    assert s.pms.get("sms-consent").json()["numbers"][0]["sms_stopped"] is False
    assert len(_answers(s)) == 2


def test_t2_the_link_page_offers_the_same_switch(scenario, control, browser):
    s = scenario()
    number = _patient(s)
    s.book("a1", "pat", s.local(5))
    token = s.token("a1")
    stopped = browser.follow(s.link("a1"), "sms-stop")
    assert stopped.status_code == 200 and "You will get no more text messages from us." in stopped.text
    assert f"/l/{token}/sms-start" in stopped.text
    (entry,) = s.pms.get("sms-consent").json()["numbers"]
    assert entry["number"] == number and entry["sms_stopped"] and entry["history"][0]["source"] == "link page"
    assert browser.follow(s.link("a1"), "sms-start").status_code == 200
    assert s.pms.get("sms-consent").json()["numbers"][0]["sms_stopped"] is False

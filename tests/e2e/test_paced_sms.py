"""SMS over the account's rate (D17, B8): they wait in the paced queue for their moment,
none is lost, urgent ones never wait behind routine ones, and what changed while one
waited is checked again before it leaves."""

from __future__ import annotations

from datetime import timedelta

from infra.messaging import SMS_SEND_ATTEMPTS, SMS_SENDER_TIMEOUT_S
from notify.domain.sms_pacing import TOLERANCE, URGENT_SHARE
from ops.redrive import depth, redrive

from .conftest import NOTICE_DELAY, PACED_SMS_WAIT, own_mobile

ACCOUNT_RATE = 20  # the template's default SmsPartsPerSecond, which the local deploy keeps
ROUTINE_RATE = ACCOUNT_RATE * (1 - URGENT_SHARE)
SMS_SENDER_VISIBILITY_S = 6 * SMS_SENDER_TIMEOUT_S  # the paced queue's visibility timeout


def _burst(s, count: int, prefix: str = "b", also=lambda: None) -> dict[str, str]:
    """`count` SMS-only patients booked in one moment: their booking confirmations fall
    due together, once the bookings have settled (B9). Appointment (and patient) ids, with
    each patient's mobile number."""
    ids = {f"{prefix}{i}": own_mobile() for i in range(count)}
    for patient_id, phone in ids.items():
        s.patient(patient_id, phone=phone)
    start = s.local(5)
    for i, appointment_id in enumerate(ids):
        response = s.pms.send(
            "appointment.created",
            {
                "appointment_id": appointment_id,
                "patient_id": appointment_id,
                "start": (start + timedelta(minutes=30 * i)).isoformat(),
                "end": (start + timedelta(minutes=30 * i + 30)).isoformat(),
            },
        )
        assert response.status_code == 202, response.text
    also()
    s.settle()
    return ids


def _history(s, appointment_id: str, kind: str = "confirmation") -> list[dict]:
    (sms,) = [
        m
        for m in s.pms.get(f"appointments/{appointment_id}").json()["messages"]
        if m["channel"] == "sms" and m["kind"] == kind
    ]
    return sms["history"]


def test_b8_sms_over_the_account_rate_wait_their_moment_and_none_is_lost(scenario, control):
    s = scenario()
    ids = _burst(s, 36)
    control.advance(PACED_SMS_WAIT.total_seconds())
    rows = s.messages(kind="confirmation", channel="sms")
    assert sorted(r["appointment_id"] for r in rows) == sorted(ids)  # every one, once
    assert all(r["delivered_to_provider"] for r in rows)
    parts = sum(r["segments"] for r in rows)
    assert parts > 2 * ROUTINE_RATE  # the burst really is over the rate
    leaving = sorted((s.at(r), r["segments"]) for r in rows)
    first = leaving[0][0]
    assert leaving[-1][0] > first  # some waited
    # Never faster than the routine lane's rate, with its second's burst.
    burst = ROUTINE_RATE * TOLERANCE.total_seconds() + max(p for _, p in leaving)
    sent = 0
    for at, segments in leaving:
        sent += segments
        assert sent <= ROUTINE_RATE * (at - first).total_seconds() + burst + ROUTINE_RATE, (at, sent)
    waited = [i for i in ids if "queued" in [h["status"] for h in _history(s, i)]]
    assert waited, "no SMS went through the paced queue"
    for appointment_id in waited:
        statuses = [h["status"] for h in _history(s, appointment_id)]
        assert statuses[-2:] == ["queued", "sent"], statuses
    # Quota counted once per SMS (C7), queued or not.
    assert s.sms_used(rows) == parts


def test_b8_an_urgent_sms_leaves_at_once_while_routine_ones_wait(scenario, control):
    s = scenario()
    s.patient("urgent", phone=own_mobile())
    s.book("u1", "urgent", s.local(6))
    # The practice cancels u1 in the same moment as it books the burst: the cancellation
    # notice (urgent) falls due with thirty confirmations (routine).
    ids = _burst(s, 30, also=lambda: s.pms.send("appointment.cancelled", {"appointment_id": "u1"}))
    waiting = [i for i in ids if _history(s, i)[-1]["status"] == "queued"]
    assert waiting, "the burst left no routine SMS waiting"
    (notice,) = s.messages("u1", kind="cancellation", channel="sms")
    moment = s.at(notice)
    control.advance(PACED_SMS_WAIT.total_seconds())
    burst = [r for r in s.messages(kind="confirmation", channel="sms") if r["appointment_id"] in ids]
    assert len(burst) == len(ids)
    assert min(s.at(r) for r in burst) == moment  # it fell due with them...
    assert max(s.at(r) for r in burst) > moment  # ...and did not wait behind those that waited


def test_b8_a_queued_sms_for_an_appointment_cancelled_meanwhile_never_leaves(scenario, control):
    s = scenario()
    ids = _burst(s, 30)
    waiting = [i for i in ids if _history(s, i)[-1]["status"] == "queued"]
    assert waiting
    gone = waiting[-1]
    response = s.pms.send("appointment.cancelled", {"appointment_id": gone})
    assert response.status_code == 202
    before = s.sms_used(s.messages(kind="confirmation", channel="sms"))
    control.advance(PACED_SMS_WAIT.total_seconds())
    assert s.messages(gone, kind="confirmation", channel="sms") == []
    last = _history(s, gone)[-1]
    assert last["status"] == "skipped" and "while queued" in last["reason"], last
    sent = s.messages(kind="confirmation", channel="sms")
    assert len(sent) == len(ids) - 1
    # Its parts were counted when it was queued and given back when it did not leave;
    # the practice's statistics count what left (A1).
    assert s.sms_used(sent) == sum(r["segments"] for r in sent)
    assert before >= s.sms_used(sent)
    day = s.local(0).date().isoformat()
    usage = s.pms.get("statistics", **{"from": day, "to": day}).json()["totals"]
    assert usage["sms_parts"] == sum(r["segments"] for r in sent)


def test_b8_a_queued_sms_goes_to_the_number_its_patient_has_when_it_leaves(scenario, control):
    """The patient's number changed while their SMS waited: it leaves to the new number
    (read as it leaves), and the ledger records that number, not the one it was queued for."""
    s = scenario()
    ids = _burst(s, 30)
    waiting = [i for i in ids if _history(s, i)[-1]["status"] == "queued"]
    assert waiting
    changed = waiting[-1]
    while (new := own_mobile())[-2:] == ids[changed][-2:]:  # told apart by their masked form
        pass
    s.patient(changed, phone=new)
    control.advance(PACED_SMS_WAIT.total_seconds())
    (sms,) = s.messages(changed, kind="confirmation", channel="sms")
    assert sms["recipient"] == f"+48***{new[-2:]}", sms
    assert control.sms_received(f"+48{new}") == [sms["text"]]
    assert control.sms_received(f"+48{ids[changed]}") == []


def test_b8_a_queued_sms_whose_send_fails_is_tried_again_and_leaves_once(scenario, control):
    s = scenario()
    ids = _burst(s, 30)
    waiting = [i for i in ids if _history(s, i)[-1]["status"] == "queued"]
    assert waiting
    control.faults(down=["sns"])
    try:
        control.advance(PACED_SMS_WAIT.total_seconds())  # their moments pass while SNS is down
        assert {_history(s, i)[-1]["status"] for i in waiting} == {"queued"}  # none lost, none failed
    finally:
        control.faults()
    control.advance(SMS_SENDER_VISIBILITY_S + 10)  # the queue shows them again
    rows = s.messages(kind="confirmation", channel="sms")
    assert sorted(r["appointment_id"] for r in rows) == sorted(ids)  # every one, once
    assert all(r["delivered_to_provider"] for r in rows)
    assert s.sms_used(rows) == sum(r["segments"] for r in rows)


def test_b4_a_queued_sms_delivered_twice_by_the_queue_leaves_once(scenario, control):
    s = scenario()
    ids = _burst(s, 30)
    assert any(_history(s, i)[-1]["status"] == "queued" for i in ids)
    control.duplicate_deliveries(True)
    try:
        control.advance(PACED_SMS_WAIT.total_seconds())
    finally:
        control.duplicate_deliveries(False)
    rows = s.messages(kind="confirmation", channel="sms")
    assert sorted(r["appointment_id"] for r in rows) == sorted(ids)
    assert s.sms_used(rows) == sum(r["segments"] for r in rows)


def _offers_at_nine_in_the_evening(s, control):
    """A cancellation that settles at 20:59:59 local: ten offers fall due a second before
    quiet hours (21:00-08:00), more than the urgent lane lets leave in that second.
    Returns the slot's start, that second, 23:30 that night and the next 08:00."""
    slot_start = s.local(5)
    s.patient("freed", phone=own_mobile())
    s.book("slot", "freed", slot_start)
    for i in range(10):
        s.patient(f"c{i}", phone=own_mobile())
        s.book(f"c{i}", f"c{i}", slot_start + timedelta(hours=48 + i))
    due, night, quiet_end = s.local(1, 20, 59) + timedelta(seconds=59), s.local(1, 23, 30), s.local(2, 8)
    control.advance_to(due - NOTICE_DELAY)
    s.change("appointment.cancelled", {"appointment_id": "slot"})
    return slot_start, due, night, quiet_end


def test_b2_offers_the_rate_pushes_into_quiet_hours_wait_for_the_morning(scenario, control):
    s = scenario()
    _, due, _, quiet_end = _offers_at_nine_in_the_evening(s, control)
    control.advance_to(quiet_end + timedelta(hours=1))
    offers = s.messages(kind="slot_offer", channel="sms")
    assert sorted(r["appointment_id"] for r in offers) == [f"c{i}" for i in range(10)]
    evening = [r for r in offers if s.at(r) <= due + TOLERANCE]
    morning = [r for r in offers if s.at(r) >= quiet_end]
    assert evening and morning, [s.at(r) for r in offers]
    assert len(evening) + len(morning) == len(offers)  # none in between (B2)
    (waited,) = {
        h["reason"] for h in _history(s, morning[0]["appointment_id"], "slot_offer") if h["status"] == "queued"
    } - {"paced"}
    assert waited.startswith("quiet hours: leaves after"), waited


def test_b2_d20_offers_held_overnight_in_the_queue_are_not_sent_for_a_time_booked_in_the_night(scenario, control):
    """The same evening burst; at 23:30 the practice's online booking takes the freed
    time. The offers that waited in the queue for the morning read the calendar before
    they leave, and none goes (D20); those that left in the evening stay as they went."""
    s = scenario()
    slot_start, _, night, quiet_end = _offers_at_nine_in_the_evening(s, control)
    control.advance_to(night)
    evening = {r["appointment_id"] for r in s.messages(kind="slot_offer", channel="sms")}
    assert 0 < len(evening) < 10
    s.patient("night", phone=own_mobile())
    s.book("night", "night", slot_start, source="portal")
    control.advance_to(quiet_end + timedelta(hours=1))
    assert {r["appointment_id"] for r in s.messages(kind="slot_offer", channel="sms")} == evening
    waited = [f"c{i}" for i in range(10) if f"c{i}" not in evening]
    for appointment_id in waited:
        (row,) = [h for h in _history(s, appointment_id, "slot_offer") if h["status"] == "skipped"]
        assert row["reason"] == "slot offer: no longer available (while queued)", row


def test_t1_an_answer_to_an_sms_that_waited_in_the_queue_confirms_its_appointment(scenario, control):
    s = scenario()
    ids = _burst(s, 30)
    waited = [i for i in ids if _history(s, i)[-1]["status"] == "queued"][-1]
    control.advance(PACED_SMS_WAIT.total_seconds())
    (sms,) = s.messages(waited, kind="confirmation", channel="sms")
    assert "Odpisz 1 = potwierdz" in sms["text"] or "Reply 1 to confirm" in sms["text"]
    control.text(f"+48{ids[waited]}", "1")  # the thread was remembered when it left
    assert s.pms.get(f"appointments/{waited}").json()["appointment"]["status"] == "confirmed"


def test_b8_a_queued_sms_that_fails_every_try_is_dead_lettered_and_redriven_once(scenario, control):
    s = scenario()
    ids = _burst(s, 17)  # a second's burst leaves at once; one or two wait
    waiting = [i for i in ids if _history(s, i)[-1]["status"] == "queued"]
    assert waiting
    before = depth("SmsFailures")
    control.faults(down=["sns"])
    try:  # every try fails: five receives, each after the visibility timeout
        control.advance(SMS_SEND_ATTEMPTS * (SMS_SENDER_VISIBILITY_S + 1) + PACED_SMS_WAIT.total_seconds())
        assert depth("SmsFailures") == before + len(waiting)
        assert {_history(s, i)[-1]["status"] for i in waiting} == {"queued"}
    finally:
        control.faults()
    assert redrive("SmsFailures") == len(waiting)
    control.advance(PACED_SMS_WAIT.total_seconds())
    rows = s.messages(kind="confirmation", channel="sms")
    assert sorted(r["appointment_id"] for r in rows) == sorted(ids)  # each once
    assert redrive("SmsFailures") == 0

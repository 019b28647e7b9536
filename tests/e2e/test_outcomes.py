"""F4 (the ASAP list) and A1 (outcome statistics) end to end over HTTP."""

from __future__ import annotations

from .conftest import APP_PATIENT


def _offered(s) -> list[str]:
    return [r["appointment_id"] for r in s.messages(kind="slot_offer")]


def _slot_and_waiters(s, waiters: int = 2):
    """A slot on day 3 at noon; `waiters` later appointments in F1's order (day 5, 6...)."""
    slot_start = s.local(3)
    s.patient("freed")
    s.book("slot", "freed", slot_start)
    for i in range(waiters):
        s.patient(f"w{i}")
        s.book(f"w{i}", f"w{i}", s.local(5 + i))
    return slot_start


def test_f4_a_patient_who_asked_from_the_page_is_offered_the_freed_slot_first(scenario, control, browser):
    s = scenario(offer_candidates=1)
    _slot_and_waiters(s)
    s.patient("keen")
    s.book("keen", "keen", s.local(20))  # far later: F1's order would never reach it
    page = browser.follow(s.link("keen"), "asap")
    assert page.status_code == 200 and "we will offer you an earlier time" in page.text
    assert "I no longer need an earlier time" in page.text
    s.change("appointment.cancelled", {"appointment_id": "slot"})
    assert _offered(s) == ["keen"]
    (offer,) = s.messages("keen", kind="slot_offer")
    assert browser.http.post(offer["link"], timeout=60).status_code == 200
    moved = s.pms.get("appointments/keen").json()["appointment"]
    assert moved["status"] == "confirmed"
    assert (
        "I no longer need an earlier time" not in browser.http.get(s.link("keen"), timeout=60).text
    )  # moved: off


def test_f4_the_practice_puts_a_patient_on_the_list_and_leaving_it_takes_them_off(scenario, control, browser):
    s = scenario(offer_candidates=2)
    _slot_and_waiters(s, 3)
    for pid in ("keen", "left"):
        s.patient(pid)
        s.book(pid, pid, s.local(12))
        s.change("appointment.asap", {"appointment_id": pid, "asap": True})
    assert browser.follow(s.link("left"), "asap-leave").status_code == 200
    s.change("appointment.cancelled", {"appointment_id": "slot"})
    assert _offered(s) == ["keen", "w0"]  # the list first, then F1's order; 2 at most


def test_f4_the_list_comes_with_f1_candidates_in_one_query_unless_those_were_cut(scenario, aws_requests):
    """Issue 16: a freed slot's F1 candidates and its F4 list come from one query of the
    calendar when it has fewer appointments from then on than F1 reads; when that read was
    cut, a second query reads the whole F4 list (it is never cut)."""
    from notify.dal import slots

    s = scenario()
    slot_start = _slot_and_waiters(s, 3)
    s.change("appointment.asap", {"appointment_id": "w2", "asap": True})
    aws_requests.clear()
    later, asap = slots.candidates(s.pms.practice_id, "default", slot_start)
    assert [a.appointment_id for a in later] == ["slot", "w0", "w1", "w2"]
    assert [a.appointment_id for a in asap] == ["w2"]
    assert [op for op, _ in aws_requests] == ["Query"]
    aws_requests.clear()
    later, asap = slots.candidates(s.pms.practice_id, "default", slot_start, limit=2)
    assert [a.appointment_id for a in later] == ["slot", "w0"] and [a.appointment_id for a in asap] == ["w2"]
    assert [op for op, _ in aws_requests] == ["Query", "Query"]


def test_a1_outcomes_count_each_thing_once_per_calendar_and_day(scenario, control, browser):
    s = scenario(reminder_offsets_hours=[48], rebook_after_no_show=True, booking_url="https://book.example.com/x")
    s.patient("app", **APP_PATIENT)
    s.patient("txt", phone="601 987 654")
    s.patient("gone")
    s.patient("later")
    for pid, day, calendar in (("app", 4, "default"), ("txt", 4, "default"), ("gone", 3, "room-2")):
        s.book(pid, pid, s.local(day), calendar_id=calendar, source="app" if pid == "app" else "practice")
    s.book("later", "later", s.local(8), calendar_id="room-2")
    # Every delivery twice is the B4 drill's part (it checks these counters too); here the
    # counters of each kind of outcome, per calendar.
    assert s.tap("txt", "confirm").status_code == 200
    app = browser.http.post(f"{s.link('app')}/confirm", headers={"Accept": "application/json"}, timeout=60)
    assert app.status_code == 200
    s.change("appointment.cancelled", {"appointment_id": "gone"})  # frees a slot in room-2
    (offer,) = s.messages("later", kind="slot_offer")
    control.advance(30 * 60)
    assert browser.http.post(offer["link"], timeout=60).status_code == 200
    control.advance_to(s.local(4, 13))
    s.change("appointment.no_show", {"appointment_id": "txt"})
    s.change("appointment.attended", {"appointment_id": "app"})
    control.advance_to(s.local(5, 12))
    report = s.pms.get("outcomes", **{"from": "2000-01-01", "to": "2100-01-01"}).json()
    totals = report["totals"]
    assert (totals["booked"], totals["confirmed_link"], totals["confirmed_app"]) == (4, 1, 1)
    assert (totals["attended"], totals["no_shows"], totals["no_show_rate"]) == (1, 1, 0.5)
    assert (totals["slots_offered"], totals["slots_filled"], totals["fill_rate"]) == (1, 1, 1.0)
    assert totals["median_minutes_to_fill"] == totals["p90_minutes_to_fill"] == 30.0
    sms_rows = [r for r in s.messages() if r["channel"] == "sms"]
    assert totals["sms_parts"] == sum(r["segments"] for r in sms_rows if r["kind"] != "reply")
    room = s.pms.get("outcomes", **{"from": "2000-01-01", "to": "2100-01-01", "calendar": "room-2"}).json()
    assert (room["totals"]["booked"], room["totals"]["slots_filled"]) == (2, 1)
    # A no-show gets a prompt to book again (the practice wants it), never a review request.
    control.advance_to(s.local(6, 12))
    assert len(s.messages("txt", kind="rebooking_prompt")) == 1
    assert s.messages("txt", kind="review_request") == []
    bad = s.pms.get("outcomes", **{"from": "yesterday"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "from"


def test_a1_k6_a_step_counting_for_both_makes_one_update(scenario, browser, aws_requests):
    """Issue 16: A1 and K6 keep their counters in one item per day and calendar, so a
    patient's confirmation, a slot's take and an SMS each make one counter update; K6's
    confirmations, cancellations and offers claimed are A1's counters, read."""
    s = scenario(offer_candidates=1)
    s.patient("txt", phone="601 987 654")
    s.patient("gone")
    s.patient("later")
    s.book("txt", "txt", s.local(4))
    s.book("gone", "gone", s.local(3))
    s.book("later", "later", s.local(8))

    def counter_updates() -> list[str]:  # the practice's counters, of either kind
        keys = [str(p["Key"]["pk"]["S"]) for op, p in aws_requests if op == "UpdateItem"]
        return [k for k in keys if k.startswith(("OUTCOMES#", "STATS#"))]

    aws_requests.clear()
    assert s.tap("txt", "confirm").status_code == 200
    assert len(counter_updates()) == 1  # confirmed_link: A1's and K6's confirmation
    s.change("appointment.cancelled", {"appointment_id": "gone"})
    (offer,) = s.messages("later", kind="slot_offer")
    aws_requests.clear()
    assert browser.http.post(offer["link"], timeout=60).status_code == 200
    assert len(counter_updates()) == 1  # slots_filled and its minutes: K6's offer claimed
    everything = {"from": "2000-01-01", "to": "2100-01-01"}
    usage = s.pms.get("statistics", **everything).json()
    outcomes = s.pms.get("outcomes", **everything).json()["totals"]
    assert usage["totals"]["confirmations"] == outcomes["confirmations"] == 1
    assert usage["totals"]["offers_claimed"] == outcomes["slots_filled"] == 1
    assert usage["totals"]["offers_sent"] == 1
    sms_parts = sum(r["segments"] for r in s.messages(channel="sms"))
    assert usage["totals"]["sms_parts"] == sms_parts > 0

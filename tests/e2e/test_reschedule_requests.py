"""R4 for a practice without online booking (D22): from the link page a patient asks the
practice for another time; the practice is told once, the reminder's SMS is not sent,
and the practice's move ends the request (B9: unless the patient asked after it)."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import APP_PATIENT

ASK = "Ask for another time"


@pytest.fixture
def scenario_once(scenario):
    """One practice for every example of a fuzzed test (each example books its own, and
    its confirmation goes by SMS: a quota for all of them)."""
    s = scenario(booking_url="", sms_quota=1000)
    s.patient("pat")
    return s


def _requests(s) -> list[dict]:
    return [n for n in s.pms.get("notices").json()["notices"] if n["type"] == "appointment.reschedule_requested"]


def _appointment(s, appointment_id: str) -> dict:
    return s.pms.get(f"appointments/{appointment_id}").json()["appointment"]


def test_r4_a_patient_asks_for_another_time_and_the_practice_is_told_once(scenario, control, browser):
    s = scenario(booking_url="", phone="+48 22 123 45 67")
    s.patient("pat")
    start = s.local(6)
    s.book("a1", "pat", start)
    page = browser.http.get(s.link("a1"), timeout=60)
    assert ASK in page.text and "Choose another time" not in page.text  # no online booking
    form = browser.http.get(s.link("a1") + "/change-time", timeout=60)  # the button's page: GET writes nothing
    assert form.status_code == 200 and "What time of day?" in form.text
    assert _requests(s) == []

    note = "Not on Tuesdays, please.\x07\r\nAfter 3 pm is best.  "
    done = browser.submit(form, "/change-time", days="later", times="afternoon", note=note)
    assert done.status_code == 200, done.text
    assert "will contact you to agree a new time" in done.text
    assert ASK not in done.text and "You asked Harbour Dental for another time on" in done.text
    # Twice, from a page left open in another tab: nothing more for the practice.
    assert browser.post(s.token("a1"), "change-time").status_code == 200
    (request,) = _requests(s)
    assert request["data"] == {
        "appointment_id": "a1",
        "patient_id": "pat",
        "start": start.isoformat(),
        "by": "patient",
        "via": "patient link",
        "days": "later",
        "times": "afternoon",
        "note": "Not on Tuesdays, please.\nAfter 3 pm is best.",
    }
    # The appointment stays as booked; the practice API shows the request; K6 counts it.
    appointment = _appointment(s, "a1")
    assert appointment["status"] == "booked" and appointment["start"] == start.isoformat()
    assert appointment["reschedule_requested_at"] is not None
    totals = s.pms.get("statistics", **{"from": "2000-01-01", "to": "2100-01-01"}).json()["totals"]
    assert totals["reschedule_requests"] == 1
    # The form is not offered again: the page says what was asked.
    again = browser.http.get(s.link("a1") + "/change-time", timeout=60)
    assert again.status_code == 200 and "You asked Harbour Dental" in again.text and "<textarea" not in again.text


def test_r4_asking_for_another_time_answers_the_reminder_no_sms_follows(scenario, control, browser):
    """C1: the push reminder was answered (by asking for another time): no SMS 2 h later.
    The appointment keeps its reminders: it still stands until the practice moves it."""
    s = scenario()
    s.patient("pat", **APP_PATIENT)
    start = s.local(4)
    s.book("a1", "pat", start, source="app")
    control.advance_to(start - timedelta(hours=47))  # the reminder is pushed; its SMS waits 2 h
    assert len(s.messages("a1", kind="reminder", channel="push")) == 1
    assert browser.follow(s.link("a1"), "change-time", times="morning").status_code == 200
    control.advance(4 * 3600)
    assert s.messages("a1", kind="reminder", channel="sms") == []
    assert [r["data"]["times"] for r in _requests(s)] == ["morning"]


def test_r4_c4_the_app_asks_for_another_time_with_the_same_fields_and_gets_json(scenario, control, browser):
    s = scenario(booking_url="")
    s.patient("pat", **APP_PATIENT)
    s.book("a1", "pat", s.local(6), source="app")
    url = s.link("a1") + "/change-time"
    refused = browser.http.post(url, data={"note": "x" * 301}, headers={"Accept": "application/json"}, timeout=60)
    assert refused.status_code == 422
    assert refused.json()["fields"] == [{"field": "note", "message": "at most 300 characters"}]
    answer = browser.http.post(url, data={"days": "earlier"}, headers={"Accept": "application/json"}, timeout=60)
    assert answer.status_code == 200
    assert answer.json() == {"status": "booked", "reschedule_requested_at": control.now().isoformat()}
    assert [(r["data"]["days"], r["data"]["via"]) for r in _requests(s)] == [("earlier", "app")]


def test_r4_b9_the_practices_move_ends_the_request_unless_the_patient_asked_after_it(scenario, control, browser):
    s = scenario(booking_url="")
    s.patient("pat")
    start = s.local(8)
    s.book("a1", "pat", start)
    assert browser.follow(s.link("a1"), "change-time").status_code == 200
    asked_at = control.now()
    # The practice moves it (a change after the request): the request is answered.
    moved = start + timedelta(days=2)
    s.change(
        "appointment.rescheduled",
        {"appointment_id": "a1", "start": moved.isoformat(), "end": (moved + timedelta(minutes=30)).isoformat()},
    )
    assert _appointment(s, "a1")["reschedule_requested_at"] is None
    assert len(s.messages("a1", kind="reschedule")) >= 1
    page = browser.http.get(s.link("a1"), timeout=60)
    assert ASK in page.text  # the patient may ask again about the new time
    assert browser.follow(s.link("a1"), "change-time", days="earlier").status_code == 200
    # A move the PMS made before the second request, delivered after it: the move applies
    # (it is newer than the first) but does not answer a request made after it.
    late = moved + timedelta(hours=1)
    s.change(
        "appointment.rescheduled",
        {"appointment_id": "a1", "start": late.isoformat(), "end": (late + timedelta(minutes=30)).isoformat()},
        occurred_at=asked_at + timedelta(seconds=1),
    )
    appointment = _appointment(s, "a1")
    assert appointment["start"] == late.isoformat()
    assert appointment["reschedule_requested_at"] is not None
    assert [r["data"]["days"] for r in _requests(s)] == ["any", "earlier"]


def _notices(s, kind: str) -> list[dict]:
    return [n["data"] for n in s.pms.get("notices").json()["notices"] if n["type"] == f"appointment.{kind}"]


def test_r4_keeping_the_booked_time_ends_the_request_and_tells_the_practice(scenario, control, browser):
    """D22: a patient who asked for another time can keep the booked one after all: the
    page's "Keep my booked time" confirms the appointment and ends the request, and the
    practice is told both (so its reception does not go on looking for a time)."""
    s = scenario(booking_url="")
    s.patient("pat")
    start = s.local(6)
    s.book("a1", "pat", start)
    assert browser.follow(s.link("a1"), "change-time", days="later").status_code == 200
    page = browser.http.get(s.link("a1"), timeout=60)
    assert "Keep my booked time" in page.text and ">Confirm<" not in page.text
    kept = browser.follow(s.link("a1"), "confirm")
    assert kept.status_code == 200 and "We told Harbour Dental you are keeping this time." in kept.text
    assert "You asked Harbour Dental" not in kept.text and ASK in kept.text  # they may ask again
    appointment = _appointment(s, "a1")
    assert appointment["status"] == "confirmed" and appointment["reschedule_requested_at"] is None
    assert _notices(s, "reschedule_withdrawn") == [
        {
            "appointment_id": "a1",
            "patient_id": "pat",
            "start": start.isoformat(),
            "by": "patient",
            "via": "patient link",
            "because": "confirmed",
        }
    ]
    assert [n["via"] for n in _notices(s, "confirmed")] == ["patient link"]
    # A page left open in another tab confirms again: nothing more for the practice.
    assert browser.post(s.token("a1"), "confirm").status_code == 200
    assert len(_notices(s, "reschedule_withdrawn")) == 1 and len(_notices(s, "confirmed")) == 1
    totals = s.pms.get("statistics", **{"from": "2000-01-01", "to": "2100-01-01"}).json()["totals"]
    assert totals["confirmations"] == 1


def test_r4_t1_an_answer_ends_the_request_of_a_patient_who_had_confirmed(scenario, control, browser):
    """A patient who had confirmed, then asked for another time, texts 1 (T1): they keep
    the time; the appointment was confirmed already, so only the request's end is news
    (no second confirmation, counted once). Cancelling ends a request too."""
    s = scenario(booking_url="")
    s.patient("pat")
    s.book("a1", "pat", s.local(6))  # its confirmation goes by SMS: the text answers it
    assert browser.follow(s.link("a1"), "confirm").status_code == 200
    assert browser.follow(s.link("a1"), "change-time").status_code == 200
    control.text("+48601234567", "1")
    appointment = _appointment(s, "a1")
    assert appointment["status"] == "confirmed" and appointment["reschedule_requested_at"] is None
    assert [(n["because"], n["via"]) for n in _notices(s, "reschedule_withdrawn")] == [("confirmed", "sms reply")]
    assert len(_notices(s, "confirmed")) == 1
    totals = s.pms.get("statistics", **{"from": "2000-01-01", "to": "2100-01-01"}).json()["totals"]
    assert totals["confirmations"] == 1

    s.book("a2", "pat", s.local(7))
    assert browser.follow(s.link("a2"), "change-time").status_code == 200
    assert browser.follow(s.link("a2"), "cancel").status_code == 200
    assert _appointment(s, "a2")["reschedule_requested_at"] is None
    assert [n["because"] for n in _notices(s, "reschedule_withdrawn") if n["appointment_id"] == "a2"] == [
        "cancelled"
    ]


def test_r4_a_bad_form_names_the_field_in_the_patients_language_and_writes_nothing(scenario, control, browser):
    s = scenario(booking_url="", locale="pl")
    s.patient("pat")
    s.book("a1", "pat", s.local(6))
    form = browser.http.get(s.link("a1") + "/change-time", timeout=60)
    assert "Poproś o inny termin" in form.text
    too_long = browser.submit(form, "/change-time", note="x" * 301)
    assert too_long.status_code == 422
    assert "skróć ją do 300 znaków" in too_long.text and 'aria-invalid="true"' in too_long.text
    assert "x" * 301 in too_long.text  # what the patient wrote is kept for them to shorten
    tampered = browser.submit(form, "/change-time", days="tomorrow")
    assert tampered.status_code == 422 and "Wybierz jedną z opcji." in tampered.text
    assert _requests(s) == [] and _appointment(s, "a1")["reschedule_requested_at"] is None
    # Fixed, it goes.
    assert browser.submit(too_long, "/change-time", note="x" * 300).status_code == 200
    assert len(_requests(s)) == 1


def test_r4_no_request_when_the_practice_turned_them_off_or_the_appointment_is_over(scenario, control, browser):
    s = scenario(booking_url="", reschedule_requests=False)
    s.patient("pat")
    s.book("a1", "pat", s.local(6))
    assert ASK not in browser.http.get(s.link("a1"), timeout=60).text
    assert browser.http.get(s.link("a1") + "/change-time", timeout=60).status_code == 409
    assert browser.post(s.token("a1"), "change-time").status_code == 409

    s2 = scenario(booking_url="")
    s2.patient("pat")
    s2.book("b1", "pat", s2.local(6))
    s2.change("appointment.cancelled", {"appointment_id": "b1"})
    assert ASK not in browser.http.get(s2.link("b1"), timeout=60).text
    assert browser.post(s2.token("b1"), "change-time").status_code == 409
    assert _requests(s) == [] and _requests(s2) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.one_of(st.sampled_from(["any", "earlier", "later"]), st.text(max_size=30)),
    times=st.one_of(st.sampled_from(["any", "morning", "afternoon"]), st.text(max_size=30)),
    note=st.text(max_size=400),
)
def test_r4_any_form_input_gets_a_page_and_a_stored_note_is_plain_bounded_text(
    scenario_once, browser, days, times, note
):
    """Fuzzed form posts (any text, control characters): 200, or 422 with the form again
    and nothing written, never a 5xx; what reaches the practice is plain text within the
    limit, with the choices the form offers."""
    s = scenario_once
    appointment_id = f"f{uuid.uuid4().hex[:10]}"
    s.book(appointment_id, "pat", s.local(6))
    response = browser.http.post(
        s.link(appointment_id) + "/change-time", data={"days": days, "times": times, "note": note}, timeout=60
    )
    assert response.status_code in (200, 422), (response.status_code, response.text[:300])
    mine = [r["data"] for r in _requests(s) if r["data"]["appointment_id"] == appointment_id]
    assert len(mine) == (response.status_code == 200)
    for request in mine:
        assert len(request["note"]) <= 300
        assert all(c == "\n" or unicodedata.category(c)[0] != "C" for c in request["note"])
        assert request["days"] == days and request["times"] == times

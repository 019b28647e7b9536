"""The patient's pages as a patient meets them: only the actions that make sense, cancel
asked once more, friendly pages for every broken link in the right language, the
calendar file (R12). The same pages are checked in Chromium with axe in tests/pages/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar


def _cancel_link_and_form(page_text: str, token: str) -> tuple[bool, bool]:
    return f'href="/v1/l/{token}/cancel"' in page_text, f'action="/v1/l/{token}/cancel"' in page_text


def test_r4_cancel_asks_once_more_and_then_offers_a_new_booking(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    token = s.token("a1")
    page = s.browser.open(token)
    assert _cancel_link_and_form(page.text, token) == (True, False)  # a link to a question, not a form
    asked = s.browser.http.get(f"{s.browser.base}/l/{token}/cancel", timeout=30)
    assert asked.status_code == 200 and "Cancel this appointment?" in asked.text
    assert "No, keep my appointment" in asked.text
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "booked"  # asking changed nothing
    done = s.browser.submit(asked, "/cancel")
    assert done.status_code == 200 and "Your appointment is cancelled." in done.text
    assert 'href="https://book.example.com/harbour"' in done.text and "Book a new appointment" in done.text
    assert f"/l/{token}/confirm" not in done.text and _cancel_link_and_form(done.text, token) == (False, False)


def test_r4_no_cancel_once_the_visit_started_or_inside_the_practices_window(scenario, control):
    s = scenario(cancel_cutoff_minutes=24 * 60, phone="+48 22 123 45 67")
    s.patient("pat")
    start = s.local(5)
    s.book("a1", "pat", start)
    token = s.token("a1")
    assert _cancel_link_and_form(s.browser.open(token).text, token)[0]
    control.advance_to(start - timedelta(hours=20))  # inside the 24 h window
    page = s.browser.open(token).text
    assert not _cancel_link_and_form(page, token)[0]
    assert "It is too late to cancel here. Please call Harbour Dental." in page
    assert s.browser.post(token, "cancel").status_code == 409
    control.advance_to(start + timedelta(hours=1))  # the visit has started
    page = s.browser.open(token).text
    assert "This appointment has passed." in page and f"/l/{token}/confirm" not in page
    assert s.browser.post(token, "cancel").status_code == 409
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "booked"


def test_r4_a_link_with_trailing_punctuation_still_opens(scenario):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    for tail in (".", ",", ")", "!.", ").", "»"):
        assert s.browser.http.get(s.link("a1") + tail, timeout=30).status_code == 200, tail


def test_r4_a_broken_link_gets_a_page_in_the_patients_language_with_a_way_forward(scenario, control, browser):
    s = scenario(locale="pl", phone="+48 22 123 45 67")
    s.patient("pat")
    start = s.local(3)
    s.book("a1", "pat", start)
    link = s.link("a1")
    truncated = browser.http.get(link[:-3], headers={"Accept-Language": "pl-PL,pl;q=0.9"}, timeout=30)
    assert truncated.status_code == 404 and truncated.headers["Content-Type"].startswith("text/html")
    assert '<html lang="pl">' in truncated.text and "Ten link nie działa" in truncated.text
    french = browser.http.get(f"{browser.base}/l/nope", headers={"Accept-Language": "fr"}, timeout=30)
    assert '<html lang="fr">' in french.text and "Ce lien ne fonctionne pas" in french.text
    wrong_offer = browser.http.get(f"{link}/offer/no-such-slot", timeout=30)
    assert wrong_offer.status_code == 404 and "Ta propozycja nie istnieje (już)." in wrong_offer.text
    # Expired (two days after the visit): the practice is known, so is the way forward.
    control.advance_to(start + timedelta(days=3))
    expired = browser.http.get(link, timeout=30)
    assert expired.status_code == 404 and '<html lang="pl">' in expired.text
    assert "Harbour Dental" in expired.text and 'href="https://book.example.com/harbour"' in expired.text
    assert 'href="tel:+48 22 123 45 67"' in expired.text


def test_k2_a_recall_page_without_a_booking_page_shows_the_practice_phone(scenario, control, browser):
    s = scenario(recalls_enabled=True, booking_url="", phone="+48 22 123 45 67")
    s.patient("pat")
    s.pms.send("recall.due", {"patient_id": "pat", "recall_type": "checkup", "due_at": control.now().isoformat()})
    control.advance_to(s.local(1, 10, 5))
    (recall,) = [m for m in s.messages(kind="recall") if m["link"]]
    page = browser.http.get(recall["link"], timeout=30)
    assert page.status_code == 200 and 'href="tel:+48 22 123 45 67"' in page.text
    assert "/book" not in page.text


def _next_dst_change(now: datetime, zone: ZoneInfo) -> datetime:
    """The first local day, at least three days ahead, whose offset differs from the day before."""
    day = now.astimezone(zone).date() + timedelta(days=3)
    while True:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        if noon.utcoffset() != (noon - timedelta(days=1)).utcoffset():
            return noon
        day += timedelta(days=1)


def _calendar(browser, link: str) -> Calendar:
    response = browser.http.get(f"{link}/calendar.ics", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def test_r12_the_calendar_file_keeps_local_time_across_dst_its_uid_and_a_rising_sequence(
    scenario, control, browser
):
    s = scenario()
    s.patient("pat")
    zone = ZoneInfo("Europe/Warsaw")
    change = _next_dst_change(control.now(), zone)
    after, before = change + timedelta(days=1), change - timedelta(days=2)
    start = datetime(after.year, after.month, after.day, 10, 0, tzinfo=zone).astimezone(UTC)
    s.book("a1", "pat", start)
    link = s.link("a1")
    (event,) = _calendar(browser, link).walk("VEVENT")
    assert event["DTSTART"].dt == datetime(after.year, after.month, after.day, 10, 0, tzinfo=zone)
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Warsaw"
    assert (event["DTEND"].dt - event["DTSTART"].dt) == timedelta(minutes=30)
    assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
    uid = str(event["UID"])
    assert len(_calendar(browser, link).walk("VTIMEZONE")) == 1
    moved = datetime(before.year, before.month, before.day, 9, 0, tzinfo=zone).astimezone(UTC)  # other offset
    s.change(
        "appointment.rescheduled",
        {"appointment_id": "a1", "start": moved.isoformat(), "end": (moved + timedelta(minutes=30)).isoformat()},
    )
    link = s.messages("a1", kind="reschedule")[0]["link"] or link
    (event,) = _calendar(browser, link).walk("VEVENT")
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
    assert event["DTSTART"].dt == datetime(before.year, before.month, before.day, 9, 0, tzinfo=zone)
    assert (
        event["DTSTART"].dt.utcoffset()
        != datetime(after.year, after.month, after.day, 10, tzinfo=zone).utcoffset()
    )
    s.change("appointment.cancelled", {"appointment_id": "a1"})
    calendar = _calendar(browser, link)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2
    assert str(event["STATUS"]) == "CANCELLED" and str(calendar["METHOD"]) == "CANCEL"

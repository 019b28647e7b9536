"""The API as API Gateway serves it: under the stage on the default URL (`/v1/...`) and
behind a custom domain with a base-path mapping (`/notify/...`). A page whose links or
forms forget that prefix gets API Gateway's 403 here, as it would on AWS."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from local.stack import CUSTOM_DOMAIN_BASE_PATH


def _custom_domain(link: str) -> str:
    """The same link as a custom domain mapped with base path `notify` would carry it."""
    parts = urlsplit(link)
    path = parts.path.split("/", 2)[2]  # drop "/v1"
    return f"{parts.scheme}://{parts.netloc}/{CUSTOM_DOMAIN_BASE_PATH}/{path}"


def test_stage_links_in_messages_carry_the_stage_and_the_bare_path_is_refused(scenario, control, local_stack):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    link = s.link("a1")
    assert urlsplit(link).path.startswith("/v1/l/"), link
    assert s.browser.http.get(link, timeout=30).status_code == 200
    bare = link.replace("/v1/l/", "/l/")
    refused = s.browser.http.get(bare, timeout=30)
    assert refused.status_code == 403
    assert refused.json() == {"message": "Missing Authentication Token"}


def test_stage_confirm_and_cancel_forms_work_on_the_default_url(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    s.book("a2", "pat", s.local(6))
    confirmed = s.tap("a1", "confirm")
    assert confirmed.status_code == 200
    assert urlsplit(confirmed.url).path.startswith("/v1/l/")
    cancelled = s.tap("a2", "cancel")
    assert cancelled.status_code == 200
    statuses = {a: s.pms.get(f"appointments/{a}").json()["appointment"]["status"] for a in ("a1", "a2")}
    assert statuses == {"a1": "confirmed", "a2": "cancelled"}


def test_stage_pages_behind_a_custom_domain_post_under_its_base_path(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    link = _custom_domain(s.link("a1"))
    response = s.browser.follow(link, "confirm")
    assert response.status_code == 200
    assert urlsplit(response.url).path.startswith(f"/{CUSTOM_DOMAIN_BASE_PATH}/l/")
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "confirmed"
    reschedule = s.browser.submit(s.browser.http.get(link, timeout=30), "/reschedule")
    assert reschedule.status_code == 302
    assert reschedule.headers["Location"] == "https://book.example.com/harbour"


def test_stage_freed_slot_offer_page_accepts_through_its_form_on_both_urls(scenario, control):
    s = scenario()
    slot = s.local(3)
    s.patient("freed")
    s.book("slot", "freed", slot)
    for i in range(2):
        s.patient(f"c{i}")
        s.book(f"c{i}", f"c{i}", slot + timedelta(days=3 + i))
    s.change("appointment.cancelled", {"appointment_id": "slot"})
    offers = {r["appointment_id"]: r["link"] for r in s.messages(kind="slot_offer")}
    # Both patients have the offer open; c1 (behind the custom domain) presses first.
    late_page = s.browser.http.get(offers["c0"], timeout=30)
    page = s.browser.http.get(_custom_domain(offers["c1"]), timeout=30)
    assert page.status_code == late_page.status_code == 200
    won = s.browser.submit(page, "/offer/slot.v1")
    assert won.status_code == 200
    too_late = s.browser.submit(late_page, "/offer/slot.v1")
    assert too_late.status_code == 409
    assert s.pms.get("appointments/c1").json()["appointment"]["start"] == slot.isoformat()

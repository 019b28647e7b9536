"""B3: every message kind renders in en / pl / fr; SMS stay short."""

from datetime import UTC, datetime

import pytest

from notify.domain.model import MessageKind
from notify.domain.sms_segments import is_gsm7, segment_count, transliterate
from notify.rendering import LOCALES, local_times, render
from notify.template_sandbox import KINDS  # every kind we write a text for (replies are answers)

PRACTICE = {"en": "Harbour Dental", "pl": "Przychodnia Zdrowie", "fr": "Cabinet Lumière"}


def context(locale: str) -> dict:
    link = "https://n.example.com/l/AbCdEfGhIjKlMnOp"
    return {
        "practice": PRACTICE[locale],
        "practitioner": "Dr Anna Nowak",
        "first_name": "Jan",
        "appointment_type": "Checkup",
        "link": link,
        "confirm_link": link + "?a=confirm",
        "cancel_link": link + "?a=cancel",
        "reschedule_link": link + "?a=reschedule",
        "booking_link": "https://book.example.com/harbour",
        "review_link": "https://reviews.example.com/harbour",
        "instructions": "Bring ID.",
        "slot_when": "Monday 23 November 2026, 09:15",
        "slot_when_short": "23.11 09:15",
        "offer_link": link + "/offer/a1234.v1",
        "from_recall": False,
        "reply": False,
        "map_url": "",
        "parking_info": "",
        "practitioner_photo_url": "",
        "recall_type": "checkup",
        "category": "result",
        **local_times(datetime(2026, 11, 25, 13, 30, tzinfo=UTC), "Europe/Warsaw", locale),
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_b3_every_kind_renders_every_part_in_every_language(kind, locale):
    rendered = render(kind, locale, context(locale))
    for part in ("sms", "push_title", "push_body", "email_subject", "email_text"):
        assert getattr(rendered, part).strip(), part
    assert "{{" not in rendered.email_text


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("kind", KINDS)
def test_b3_default_sms_is_one_gsm7_segment_in_english_and_french(kind, locale):
    rendered = render(kind, locale, context(locale))
    assert is_gsm7(rendered.sms), rendered.sms
    assert rendered.sms_segments == 1


@pytest.mark.parametrize("kind", KINDS)
def test_b3_polish_sms_is_one_segment_with_transliteration(kind):
    ctx = {**context("pl"), "practitioner": "dr Ewa Zielińska", "practice": "Przychodnia Łódź"}
    rendered = render(kind, "pl", ctx, transliterate_sms=True)
    assert is_gsm7(rendered.sms) and rendered.sms_segments == 1


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reply", [True, False])
def test_r11_a_grouped_reminder_of_two_appointments_is_one_segment(locale, reply):
    moments = [datetime(2026, 11, 25, h, m, tzinfo=UTC) for h, m in ((8, 0), (8, 30))]
    times = [local_times(m, "Europe/Warsaw", locale) for m in moments]
    ctx = {
        **context(locale),
        "reply": reply,
        "appointments": f"{times[0]['time']} Anna, {times[1]['time']} Jan",
        "day_short": times[0]["day_short"],
        "link": "https://n.example.com/v1/g/AbCdEfGhIjKlMnOp",
    }
    rendered = render(MessageKind.REMINDER, locale, ctx, transliterate_sms=locale == "pl")
    assert "08:00 Anna, 08:30 Jan" in rendered.sms or "09:00 Anna, 09:30 Jan" in rendered.sms
    assert "/g/" in rendered.sms and is_gsm7(rendered.sms) and rendered.sms_segments == 1, rendered.sms


def test_b3_segment_counting_gsm7_and_ucs2():
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("ą" * 70) == 1
    assert segment_count("ą" * 71) == 2
    assert segment_count("€" * 80) == 1  # extension characters count double
    assert transliterate("Zażółć gęślą jaźń") == "Zazolc gesla jazn"


def test_b3_practice_override_replaces_a_template():
    override = {
        "en/reminder.j2": "{% block sms %}Custom {{ practice }}{% endblock %}"
        "{% block push_title %}t{% endblock %}{% block push_body %}b{% endblock %}"
        "{% block email_subject %}s{% endblock %}{% block email_text %}e{% endblock %}"
    }
    assert render(MessageKind.REMINDER, "en", context("en"), override).sms == "Custom Harbour Dental"


def test_b1_times_are_shown_in_the_practice_zone_and_language():
    times = local_times(datetime(2026, 11, 25, 13, 30, tzinfo=UTC), "Europe/Warsaw", "pl")
    assert times["when_short"] == "25.11 14:30"
    assert "listopada" in times["when"]


@pytest.mark.parametrize("locale", LOCALES)
def test_k2_confirmation_of_a_recall_booking_carries_the_practice_content(locale):
    content = {
        "map_url": "https://maps.example.com/h",
        "parking_info": "P2, level -1",
        "practitioner_photo_url": "https://cdn.example.com/nowak.jpg",
    }
    from_recall = render(MessageKind.CONFIRMATION, locale, {**context(locale), **content, "from_recall": True})
    usual = render(MessageKind.CONFIRMATION, locale, {**context(locale), **content})
    for value in content.values():
        assert value in from_recall.email_text and value not in usual.email_text
    assert from_recall.sms == usual.sms  # the SMS stays one segment

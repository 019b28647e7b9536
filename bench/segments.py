"""SMS segments per message kind and language, with realistic data."""

from __future__ import annotations

from datetime import UTC, datetime

from notify.domain.model import MessageKind
from notify.rendering import LOCALES, local_times, render
from notify.template_sandbox import KINDS as TEMPLATE_KINDS

PRACTICE = {"en": "Harbour Dental Care", "pl": "Przychodnia Zdrowie Łódź", "fr": "Cabinet Dentaire Lumière"}
DOCTOR = {"en": "Dr Sarah O'Connor", "pl": "dr Ewa Zielińska", "fr": "Dr Hélène Girard"}
KINDS = list(TEMPLATE_KINDS)


def _context(locale: str) -> dict[str, object]:
    link = "https://n.example.com/l/AbCdEfGhIjKlMnOp"
    slot = local_times(datetime(2026, 11, 23, 8, 15, tzinfo=UTC), "Europe/Warsaw", locale)
    return {
        "practice": PRACTICE[locale],
        "practitioner": DOCTOR[locale],
        "first_name": "Anna",
        "appointment_type": "Checkup",
        "link": link,
        "confirm_link": link,
        "cancel_link": link,
        "reschedule_link": link,
        "booking_link": "https://book.example.com/harbour",
        "review_link": "https://g.page/r/harbour/review",
        "instructions": "",
        "slot_when": slot["when"],
        "slot_when_short": slot["when_short"],
        "offer_link": link + "/offer/a1234.v1",
        "from_recall": False,
        "reply": True,  # the answer instruction (T1), where the sender takes replies
        "map_url": "",
        "parking_info": "",
        "practitioner_photo_url": "",
        "recall_type": "checkup",
        "category": "result",
        **local_times(datetime(2026, 11, 25, 13, 30, tzinfo=UTC), "Europe/Warsaw", locale),
    }


def _grouped(locale: str) -> dict[str, object]:
    """R11: a family's two appointments of one day in one reminder."""
    times = [
        local_times(datetime(2026, 11, 25, h, m, tzinfo=UTC), "Europe/Warsaw", locale)
        for h, m in ((8, 0), (8, 30))
    ]
    return {
        **_context(locale),
        "appointments": f"{times[0]['time']} Anna, {times[1]['time']} Jan",
        "day_short": times[0]["day_short"],
        "link": "https://n.example.com/g/AbCdEfGhIjKlMnOp",
    }


def measure() -> list[dict[str, object]]:
    rows = []
    cases = [(kind, kind.value, _context) for kind in KINDS]
    cases.append((MessageKind.REMINDER, "reminder, 2 grouped", _grouped))
    for kind, label, context in cases:
        for locale in LOCALES:
            plain = render(kind, locale, context(locale))
            row = {"kind": label, "locale": locale, "chars": len(plain.sms), "segments": plain.sms_segments}
            if locale == "pl":
                translit = render(kind, locale, context(locale), transliterate_sms=True)
                row["segments_transliterated"] = translit.sms_segments
            rows.append(row)
    return rows

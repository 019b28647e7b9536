"""The small mobile page a patient link opens (R4): details and confirm / cancel / reschedule.

Actions are POSTs (a link preview or prefetch must never cancel an appointment)."""

from __future__ import annotations

from markupsafe import escape

from .domain.model import PracticeSettings
from .services.patient_actions import AppointmentView

_LABELS = {
    "en": {
        "title": "Your appointment",
        "confirm": "Confirm",
        "cancel": "Cancel",
        "reschedule": "Reschedule",
        "confirmed": "Confirmed. See you soon!",
        "cancelled": "This appointment is cancelled.",
        "gone": "This link is no longer valid.",
        "attended": "Thank you for your visit.",
    },
    "pl": {
        "title": "Twoja wizyta",
        "confirm": "Potwierdź",
        "cancel": "Odwołaj",
        "reschedule": "Zmień termin",
        "confirmed": "Potwierdzone. Do zobaczenia!",
        "cancelled": "Ta wizyta jest odwołana.",
        "gone": "Ten link jest już nieważny.",
        "attended": "Dziękujemy za wizytę.",
    },
    "fr": {
        "title": "Votre rendez-vous",
        "confirm": "Confirmer",
        "cancel": "Annuler",
        "reschedule": "Modifier",
        "confirmed": "Confirmé. À bientôt !",
        "cancelled": "Ce rendez-vous est annulé.",
        "gone": "Ce lien n'est plus valide.",
        "attended": "Merci de votre visite.",
    },
}


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:1.5em}}"
        "button{font-size:1.1em;margin:.3em 0;padding:.6em;width:100%}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def appointment_page(view: AppointmentView, root: str, notice: str | None = None) -> str:
    """`root` is the prefix of the caller's own URL (stage or base path, see request_paths):
    form actions built on it keep working under /v1/... and behind a custom domain."""
    labels = _LABELS[view.locale]
    appointment = view.appointment
    lines = [f"<p><b>{escape(view.settings.name)}</b></p>", f"<p>{escape(view.when)}</p>"]
    if appointment.practitioner:
        lines.append(f"<p>{escape(appointment.practitioner)}</p>")
    if notice:
        lines.append(f"<p role=status>{escape(labels.get(notice, notice))}</p>")
    status = appointment.status.value
    if view.can_act:
        if status == "confirmed" and not notice:
            lines.append(f"<p>{escape(labels['confirmed'])}</p>")
        for action in ("confirm", "cancel"):
            lines.append(
                f"<form method=post action='{escape(root)}/l/{escape(view.token)}/{action}'>"
                f"<button name=action value={action}>{escape(labels[action])}</button></form>"
            )
        if view.settings.booking_url:
            lines.append(
                f"<form method=get action='{escape(root)}/l/{escape(view.token)}/reschedule'>"
                f"<button>{escape(labels['reschedule'])}</button></form>"
            )
    elif status in ("cancelled", "attended") and notice is None:
        lines.append(f"<p>{escape(labels[status])}</p>")
    return _page(labels["title"], "".join(lines))


_OFFER = {
    "en": {
        "title": "Earlier appointment",
        "accept": "Take this slot",
        "now": "Your appointment",
        "moved": "Done: your appointment has moved.",
        "instead": "Instead of",
    },
    "pl": {
        "title": "Wcześniejszy termin",
        "accept": "Biorę ten termin",
        "now": "Twoja wizyta",
        "moved": "Gotowe: wizyta została przeniesiona.",
        "instead": "Zamiast",
    },
    "fr": {
        "title": "Créneau plus tôt",
        "accept": "Je prends ce créneau",
        "now": "Votre rendez-vous",
        "moved": "C'est fait : votre rendez-vous est déplacé.",
        "instead": "Au lieu du",
    },
}
_REFUSALS = {
    "no longer available": {
        "pl": "Ten termin jest już zajęty.",
        "fr": "Ce créneau n'est plus disponible.",
        "en": "This slot is no longer available.",
    }
}


def offer_page(
    view: AppointmentView,
    root: str,
    slot_id: str,
    slot_when: str | None,
    refusal: str | None,
    accepted: bool = False,
) -> str:
    """The freed-slot offer (F2): accept while open, "no longer available" afterwards."""
    labels = _OFFER[view.locale]
    lines = [f"<p><b>{escape(view.settings.name)}</b></p>"]
    if accepted:
        lines.append(f"<p role=status>{escape(labels['moved'])}</p><p>{escape(view.when)}</p>")
    elif refusal:
        text = _REFUSALS.get(refusal, {}).get(view.locale, refusal)
        lines.append(f"<p role=status>{escape(text)}</p>")
        lines.append(f"<p>{escape(labels['now'])}: {escape(view.when)}</p>")
    else:
        lines.append(f"<p>{escape(slot_when or '')}</p>")
        lines.append(f"<p>{escape(labels['instead'])}: {escape(view.when)}</p>")
        lines.append(
            f"<form method=post action='{escape(root)}/l/{escape(view.token)}/offer/{escape(slot_id)}'>"
            f"<button>{escape(labels['accept'])}</button></form>"
        )
    return _page(labels["title"], "".join(lines))


def gone_page(locale: str = "en") -> str:
    labels = _LABELS.get(locale, _LABELS["en"])
    return _page(labels["title"], f"<p>{escape(labels['gone'])}</p>")


_BOOK = {
    "en": (
        "Book your visit",
        "Book online",
        "Call {practice} to book your visit: {phone}",
        "Call {practice} to book your visit.",
    ),
    "pl": (
        "Umów wizytę",
        "Umów się online",
        "Zadzwoń do {practice}, aby umówić wizytę: {phone}",
        "Zadzwoń do {practice}, aby umówić wizytę.",
    ),
    "fr": (
        "Prenez rendez-vous",
        "Réserver en ligne",
        "Appelez {practice} pour prendre rendez-vous : {phone}",
        "Appelez {practice} pour prendre rendez-vous.",
    ),
}


def recall_page(settings: PracticeSettings, locale: str, token: str, root: str) -> str:
    """A recall's page (K2): book online (a POST: opening the page records nothing), or
    the practice's phone number when it has no booking page."""
    title, book, call, call_no_phone = _BOOK.get(locale, _BOOK["en"])
    if settings.booking_url:
        body = (
            f"<form method=post action='{escape(root)}/r/{escape(token)}/book'>"
            f"<button>{escape(book)}</button></form>"
        )
    elif settings.phone:
        body = (
            f"<p>{escape(call.format(practice=settings.name, phone=''))}"
            f"<a href='tel:{escape(settings.phone)}'>{escape(settings.phone)}</a></p>"
        )
    else:
        body = f"<p>{escape(call_no_phone.format(practice=settings.name))}</p>"
    return _page(title, f"<p><b>{escape(settings.name)}</b></p>{body}")

"""The bundled scenario: two practices (Warsaw, Paris), eighteen patients, one week that
crosses the March 2026 DST change. Everything goes over HTTP: signed webhook calls,
patient link taps, clock advances and outbox reads, as a practice, a patient and an
operator would use the product."""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

START = datetime(2026, 3, 24, 7, 0, tzinfo=UTC)  # Tuesday 08:00 in Warsaw and Paris
END = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)

PRACTICES = {
    "waw-zdrowie": dict(
        name="Przychodnia Zdrowie",
        timezone="Europe/Warsaw",
        country="PL",
        locale="pl",
        booking_url="https://zdrowie.example.pl/rezerwacja",
        review_url="https://opinie.example.pl/zdrowie",
        after_booking_instructions="Prosimy zabrać dowód osobisty.",
        uses_email=False,
        sms_transliterate=True,
        recalls_enabled=True,
        # K1: an internist's patient is recalled half a year after the visit.
        recall_rules=[{"recall_type": "kontrola", "interval_days": 182, "appointment_types": ["Internista"]}],
        # F1 waves: a freed time goes to one patient at a time, the next 20 minutes later.
        offer_candidates=1,
        offer_waves=3,
        offer_wave_minutes=20,
    ),
    "par-lumiere": dict(
        name="Cabinet Lumière",
        timezone="Europe/Paris",
        country="FR",
        locale="fr",
        reminder_policy="fixed",
        fixed_offset_hours=24,
        booking_url="https://lumiere.example.fr/rdv",
        review_url="https://avis.example.fr/lumiere",
        after_booking_instructions="Merci d'arriver 10 minutes en avance.",
        recalls_enabled=True,
        map_url="https://maps.example.fr/lumiere",
        parking_info="parking gratuit dans la cour",
    ),
}

APP = {"has_app": True, "push_enabled": True, "platform": "android"}
PATIENTS = {
    "waw-zdrowie": {
        "jan": dict(name="Jan Kowalski", phone="601 234 567", locale="pl", **APP, device_token="dev-jan"),
        "anna": dict(name="Anna Nowak", phone="+48 602 345 678", locale="pl"),
        "piotr": dict(name="Piotr Wiśniewski", phone="603 456 789", locale="pl", **APP, device_token="dev-piotr"),
        "kasia": dict(name="Katarzyna Wójcik", phone="604 567 890", locale="pl", **APP, device_token="dev-kasia"),
        "tomek": dict(name="Tomasz Kamiński", phone="605 678 901", locale="pl", **APP, device_token="dev-tomek"),
        "magda": dict(name="Magdalena Lewandowska", phone="606 789 012", locale="pl"),
        "ewa": dict(name="Ewa Dąbrowska", phone="607 890 123", locale="pl"),
        "marek": dict(name="Marek Zając", phone="608 901 234", locale="pl", **APP, device_token="dev-marek"),
        # A mother and her son share one phone (R11: one reminder for both).
        "zofia": dict(name="Zofia Mazur", phone="609 111 222", locale="pl"),
        "antek": dict(name="Antek Mazur", phone="609 111 222", locale="pl"),
        "bartek": dict(
            name="Bartosz Szymański", phone="512 222 333", locale="pl", **APP, device_token="dev-bartek"
        ),
        "ola": dict(name="Aleksandra Kaczmarek", phone="513 333 444", locale="pl"),
    },
    "par-lumiere": {
        "claire": dict(
            name="Claire Martin",
            phone="06 12 34 56 78",
            locale="fr",
            **APP,
            device_token="dev-claire",
            email="claire@example.fr",
        ),
        "lucas": dict(name="Lucas Bernard", phone="06 23 45 67 89", email="lucas@example.fr", locale="fr"),
        "emma": dict(name="Emma Dubois", email="emma.dubois@example.fr", locale="fr"),
        "hugo": dict(name="Hugo Thomas", phone="+33 6 34 56 78 90", locale="fr"),
        "lea": dict(name="Léa Petit", phone="12345", locale="fr"),
        "louis": dict(
            name="Louis Robert",
            phone="06 45 67 89 01",
            locale="fr",
            **APP,
            device_token="dev-louis",
            email="louis@example.fr",
        ),
    },
}


def local(practice: str, day: int, hour: int, minute: int = 0) -> datetime:
    """March <day> 2026 at hh:mm in the practice's own zone."""
    zone = ZoneInfo(PRACTICES[practice]["timezone"])
    return datetime(2026, 3, day, hour, minute, tzinfo=zone)


# (practice, appointment, patient, start, source, type, practitioner)
BOOKINGS = [
    ("waw-zdrowie", "w-101", "jan", local("waw-zdrowie", 27, 10), "app", "Internista", "dr Ewa Zielińska"),
    ("waw-zdrowie", "w-102", "anna", local("waw-zdrowie", 26, 15), "practice", "Kardiolog", "dr Adam Mazur"),
    ("waw-zdrowie", "w-103", "piotr", local("waw-zdrowie", 30, 9), "app", "Dermatolog", "dr Ewa Zielińska"),
    ("waw-zdrowie", "w-104", "kasia", local("waw-zdrowie", 26, 7, 45), "app", "Internista", "dr Adam Mazur"),
    ("waw-zdrowie", "w-105", "tomek", local("waw-zdrowie", 26, 17), "app", "COVID-19 vaccine", ""),
    ("waw-zdrowie", "w-106", "magda", local("waw-zdrowie", 27, 11), "practice", "Okulista", "dr Adam Mazur"),
    ("waw-zdrowie", "w-107", "ewa", local("waw-zdrowie", 27, 12), "practice", "Internista", "dr Ewa Zielińska"),
    ("waw-zdrowie", "w-108", "marek", local("waw-zdrowie", 31, 14), "app", "Internista", "dr Ewa Zielińska"),
    ("waw-zdrowie", "w-109", "zofia", local("waw-zdrowie", 26, 16), "practice", "Stomatolog", "dr Adam Mazur"),
    ("waw-zdrowie", "w-110", "antek", local("waw-zdrowie", 26, 16, 30), "practice", "Stomatolog", "dr Adam Mazur"),
    ("waw-zdrowie", "w-111", "ewa", local("waw-zdrowie", 28, 10), "practice", "Internista", "dr Ewa Zielińska"),
    ("waw-zdrowie", "w-112", "bartek", local("waw-zdrowie", 31, 15), "app", "Internista", "dr Ewa Zielińska"),
    ("waw-zdrowie", "w-113", "ola", local("waw-zdrowie", 31, 16), "practice", "Internista", "dr Ewa Zielińska"),
    ("par-lumiere", "p-201", "claire", local("par-lumiere", 26, 9, 30), "app", "Détartrage", "Dr Sophie Laurent"),
    ("par-lumiere", "p-202", "lucas", local("par-lumiere", 27, 14), "practice", "Contrôle", "Dr Sophie Laurent"),
    ("par-lumiere", "p-203", "emma", local("par-lumiere", 26, 16), "portal", "Blanchiment", "Dr Marc Girard"),
    ("par-lumiere", "p-204", "hugo", local("par-lumiere", 25, 16), "practice", "Urgence", "Dr Marc Girard"),
    ("par-lumiere", "p-205", "lea", local("par-lumiere", 27, 10), "practice", "Contrôle", "Dr Sophie Laurent"),
    ("par-lumiere", "p-206", "louis", local("par-lumiere", 30, 10), "app", "Couronne", "Dr Marc Girard"),
]


# Visits that are not half an hour long (minutes); the rest are 30 minutes.
LENGTHS = {"w-111": 60, "w-112": 20}

# A third practice moves to the service on Tuesday morning: its PMS sends its whole book at
# once, forty SMS-only patients, so forty confirmations fall due in the same second and
# meet the account's SMS rate (D17). Shown as a summary, not in the timeline.
IMPORT = "waw-nowa"
IMPORT_SETTINGS = dict(PRACTICES["waw-zdrowie"], name="Centrum Medyczne Nowa")
IMPORT_SIZE = 40


@dataclass
class Note:
    at: datetime
    practice: str
    who: str
    what: str


def _fmt(moment: datetime, practice: str) -> str:
    zone = ZoneInfo(PRACTICES[practice]["timezone"])
    return moment.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def run_demo() -> None:
    from ops.practice import onboard

    from .client import LocalControl, PatientBrowser, PracticeClient
    from .stack import LocalStack

    wall = time.perf_counter()
    stack = LocalStack(START).start()
    started = time.perf_counter() - wall
    control = LocalControl(stack.url)
    browser = PatientBrowser(stack.api_url)
    notes: list[Note] = []

    def note(practice: str, who: str, what: str) -> None:
        """What someone did or saw, now, for the timeline."""
        notes.append(Note(control.now(), practice, who, what))

    names = {(p, pid): data["name"] for p, pats in PATIENTS.items() for pid, data in pats.items()}
    try:
        pms = {}
        for practice_id, settings in PRACTICES.items():
            credentials = onboard(practice_id, **settings)  # the operator CLI's code path
            pms[practice_id] = PracticeClient(stack.api_url, credentials, control)
            for patient_id, data in PATIENTS[practice_id].items():
                _ok(pms[practice_id].send("patient.upserted", {"patient_id": patient_id, **data}))
        for practice_id, appt, patient, start, source, kind, doctor in BOOKINGS:
            _ok(
                pms[practice_id].send(
                    "appointment.created",
                    {
                        "appointment_id": appt,
                        "patient_id": patient,
                        "start": start.isoformat(),
                        "end": (start + timedelta(minutes=LENGTHS.get(appt, 30))).isoformat(),
                        "source": source,
                        "appointment_type": kind,
                        "practitioner": doctor,
                    },
                )
            )
        note("waw-zdrowie", "both practices", f"{len(BOOKINGS)} appointments booked through the PMS webhook")
        _bulk_import(PracticeClient(stack.api_url, onboard(IMPORT, **IMPORT_SETTINGS), control))
        note(
            "waw-zdrowie",
            IMPORT_SETTINGS["name"],
            f"moves to the service: its PMS sends {IMPORT_SIZE} bookings at once (paced SMS below)",
        )
        # Recalls from the PMS's own lists (K1): a result recall in Warsaw (push, then SMS
        # when unviewed, K3) and a hygiene recall in Paris that turns into a booking (K2).
        _ok(
            pms["waw-zdrowie"].send(
                "recall.due",
                {
                    "patient_id": "kasia",
                    "recall_type": "wyniki",
                    "category": "result",
                    "due_at": local("waw-zdrowie", 26, 8).isoformat(),
                },
            )
        )
        _ok(
            pms["par-lumiere"].send(
                "recall.due",
                {
                    "patient_id": "emma",
                    "recall_type": "hygiene",
                    "category": "health",
                    "due_at": local("par-lumiere", 27, 8).isoformat(),
                },
            )
        )
        note("par-lumiere", "both practices", "PMS recall lists sent (recall.due): Katarzyna, Emma")

        def link_of(practice: str, appointment: str) -> str:
            rows = [
                r
                for r in control.outbox(practice)
                if r["appointment_id"] == appointment and r["kind"] != "slot_offer"
            ]
            return rows[-1]["link"]

        def tap(practice: str, patient: str, appointment: str, action: str) -> None:
            response = browser.follow(link_of(practice, appointment), action)
            _ok(response)
            note(
                practice,
                names[(practice, patient)],
                f"taps '{action}' on the appointment page (HTTP {response.status_code})",
            )

        # A cancellation three days ahead frees a slot: offered to the next patients of
        # the calendar, first acceptance wins (F1, F2), the winner moves (F3).
        control.advance_to(local("waw-zdrowie", 24, 9).astimezone(UTC))
        _ok(pms["waw-zdrowie"].send("appointment.cancelled", {"appointment_id": "w-107"}))
        note(
            "waw-zdrowie",
            "reception",
            "cancels Ewa's Friday 12:00 appointment: the time is offered to one patient at a time, "
            "the next 20 minutes later (offer waves)",
        )

        def accept_offer(patient: str, appointment: str) -> None:
            rows = [
                r
                for r in control.outbox("waw-zdrowie")
                if r["appointment_id"] == appointment and r["kind"] == "slot_offer"
            ]
            response = browser.http.post(rows[-1]["link"], timeout=60)
            outcome = (
                "moves into the slot" if response.status_code == 200 else "is told the slot is no longer available"
            )
            note(
                "waw-zdrowie",
                names[("waw-zdrowie", patient)],
                f"taps the offer and {outcome} (HTTP {response.status_code})",
            )

        control.advance_to(local("waw-zdrowie", 24, 9, 30).astimezone(UTC))
        accept_offer("marek", "w-108")
        control.advance_to(local("waw-zdrowie", 24, 9, 45).astimezone(UTC))
        accept_offer("piotr", "w-103")
        notices = pms["waw-zdrowie"].get("notices").json()["notices"]
        note("waw-zdrowie", "practice API", f"notices: {', '.join(n['type'] for n in notices)}")

        # Patients answer by text (T1, T2): a digit acts like the page's button, anything
        # else gets one helpful answer and reaches the reception, STOP stops our SMS.
        def text(patient: str, number: str, words: str) -> None:
            control.text(number, words)
            note("waw-zdrowie", names[("waw-zdrowie", patient)], f"texts {words!r}")

        control.advance_to(local("waw-zdrowie", 24, 10).astimezone(UTC))
        text("anna", "+48602345678", "1 ")
        control.advance_to(local("waw-zdrowie", 24, 10, 10).astimezone(UTC))
        text("magda", "+48606789012", "Czy mogę przyjść 15 minut później?")
        control.advance_to(local("waw-zdrowie", 24, 10, 20).astimezone(UTC))
        text("ewa", "+48607890123", "Stop.")
        consent = pms["waw-zdrowie"].get("sms-consent").json()
        note(
            "waw-zdrowie",
            "practice API",
            f"sms-consent: {sum(c['sms_stopped'] for c in consent['numbers'])} number stopped SMS",
        )

        # The practice moves her, because dr Mazur will be away on Friday: the time she
        # leaves is not free, so nobody is offered it (F1, `release_slot: false`).
        control.advance_to(local("waw-zdrowie", 24, 10, 30).astimezone(UTC))
        moved = local("waw-zdrowie", 30, 11)
        _ok(
            pms["waw-zdrowie"].send(
                "appointment.rescheduled",
                {
                    "appointment_id": "w-106",
                    "start": moved.isoformat(),
                    "end": (moved + timedelta(minutes=30)).isoformat(),
                    "release_slot": False,
                },
            )
        )
        note(
            "waw-zdrowie",
            "reception",
            "moves Magdalena's appointment to Mon 30 Mar 11:00: dr Mazur is away on Friday, "
            "so her time is offered to nobody (release_slot false)",
        )
        # Cabinet Lumière moves its reminder from the day before to 3 hours before, over its
        # own API (C8): the appointments it booked already follow a minute later, each
        # reminder planned moves to its new moment.
        control.advance_to(local("par-lumiere", 24, 14).astimezone(UTC))
        _ok(
            pms["par-lumiere"].send(
                "practice.configured", {"settings": {**PRACTICES["par-lumiere"], "fixed_offset_hours": 3}}
            )
        )
        note(
            "par-lumiere",
            "practice API",
            "practice.configured: the reminder 3 h before (was: 24 h); booked appointments follow",
        )
        control.advance_to(local("waw-zdrowie", 25, 9).astimezone(UTC))
        text("ewa", "+48607890123", "START")

        control.advance_to(local("par-lumiere", 25, 10).astimezone(UTC))
        tap("par-lumiere", "claire", "p-201", "confirm")
        control.advance_to(local("waw-zdrowie", 25, 10, 5).astimezone(UTC))
        tap("waw-zdrowie", "jan", "w-101", "confirm")
        control.advance_to(local("waw-zdrowie", 25, 13).astimezone(UTC))
        _ok(
            pms["par-lumiere"].send(
                "appointment.cancelled",
                {"appointment_id": "p-202", "internal_reason": "not excused: unpaid invoice"},
            )
        )
        note(
            "par-lumiere",
            "reception",
            "cancels Lucas's appointment (internal reason 'not excused'): the time is offered",
        )
        # Before anyone takes the offer, the reception books a caller into that time itself:
        # the offer is no longer available (F2).
        control.advance_to(local("par-lumiere", 25, 13, 20).astimezone(UTC))
        phoned = local("par-lumiere", 27, 14)
        _ok(
            pms["par-lumiere"].send(
                "appointment.created",
                {
                    "appointment_id": "p-208",
                    "patient_id": "hugo",
                    "start": phoned.isoformat(),
                    "end": (phoned + timedelta(minutes=30)).isoformat(),
                    "appointment_type": "Contrôle",
                    "practitioner": "Dr Sophie Laurent",
                },
            )
        )
        note("par-lumiere", "reception", "books Hugo, on the phone, into Lucas's Friday 14:00")
        control.advance_to(local("par-lumiere", 25, 14).astimezone(UTC))
        offered = [r for r in control.outbox("par-lumiere") if r["kind"] == "slot_offer"][-1]
        response = browser.http.post(offered["link"], timeout=60)
        note(
            "par-lumiere",
            names[("par-lumiere", "louis")],
            f"taps the offer: the reception filled that time itself (HTTP {response.status_code})",
        )
        control.advance_to(local("waw-zdrowie", 25, 17).astimezone(UTC))
        text("zofia", "+48609111222", "1")  # answers the family's one reminder: both confirmed
        family = [
            pms["waw-zdrowie"].get(f"appointments/{a}").json()["appointment"]["status"] for a in ("w-109", "w-110")
        ]
        note("waw-zdrowie", "practice API", f"w-109, w-110: {', '.join(family)}")
        # D23: an hour freed on Saturday; a 20-minute visit takes it, and the 40 minutes
        # after it are offered in turn (one patient a round, 20 minutes apart).
        control.advance_to(local("waw-zdrowie", 26, 9).astimezone(UTC))
        _ok(pms["waw-zdrowie"].send("appointment.cancelled", {"appointment_id": "w-111"}))
        note("waw-zdrowie", "reception", "cancels Ewa's one-hour Saturday 10:00 consultation: the hour is offered")
        control.advance_to(local("waw-zdrowie", 26, 9, 30).astimezone(UTC))
        accept_offer("bartek", "w-112")  # 20 minutes: the 40 after it are offered
        control.advance_to(local("waw-zdrowie", 26, 10).astimezone(UTC))
        accept_offer("ola", "w-113")  # 30 of the 40 minutes: the last 10 are not worth offering
        control.advance_to(local("par-lumiere", 26, 10, 5).astimezone(UTC))
        _ok(pms["par-lumiere"].send("appointment.attended", {"appointment_id": "p-201"}))
        note("par-lumiere", "reception", "marks Claire's visit attended (review request, rebooking prompt)")
        control.advance_to(local("par-lumiere", 27, 11).astimezone(UTC))
        recall = [r for r in control.outbox("par-lumiere") if r["kind"] == "recall"][-1]
        token = PatientBrowser.recall_token_in(recall["link"])
        booking = browser.book_from_recall(token)  # the page, then its "book" button
        note(
            "par-lumiere",
            names[("par-lumiere", "emma")],
            f"opens the recall link and presses book -> {booking.headers.get('Location')}",
        )
        booked = local("par-lumiere", 31, 9)
        _ok(
            pms["par-lumiere"].send(
                "appointment.created",
                {
                    "appointment_id": "p-207",
                    "patient_id": "emma",
                    "start": booked.isoformat(),
                    "end": (booked + timedelta(minutes=45)).isoformat(),
                    "source": "portal",
                    "appointment_type": "Détartrage",
                    "practitioner": "Dr Sophie Laurent",
                    "recall_token": token,
                },
            )
        )
        note(
            "par-lumiere",
            names[("par-lumiere", "emma")],
            "books Tue 31 Mar 09:00 on the booking page (carries the recall token)",
        )
        # C5: the practice heard, for each message no channel could carry, that Léa could
        # not be reached (the reception could have phoned her).
        unreachable = [
            n["data"]["message"]
            for n in pms["par-lumiere"].get("notices").json()["notices"]
            if n["type"] == "patient.unreachable" and n["data"]["patient_id"] == "lea"
        ]
        note(
            "par-lumiere",
            "practice API",
            f"notices: patient.unreachable for Léa's {' and '.join(unreachable)} (no app, no valid "
            "mobile number, no email)",
        )
        # Visits end: attended or missed, as the PMS records them (A1's no-show rate; no
        # review request after a missed visit).
        for practice_id, appointment_id, event, at, who in (
            ("waw-zdrowie", "w-104", "appointment.no_show", 5, "Katarzyna missed Thursday's visit"),
            ("waw-zdrowie", "w-101", "appointment.attended", 10, "Jan's visit attended"),
            ("par-lumiere", "p-205", "appointment.no_show", 30, "Léa (unreachable) did not come"),
        ):
            control.advance_to(local(practice_id, 27, 11, at).astimezone(UTC))
            _ok(pms[practice_id].send(event, {"appointment_id": appointment_id}))
            note(practice_id, "reception", who)
        control.advance_to(local("par-lumiere", 27, 18).astimezone(UTC))
        tap("par-lumiere", "louis", "p-206", "cancel")
        # R4 without calling (D22): Piotr cannot come on Monday. From his reminder's page he
        # asks the practice for a later morning; that answers the reminder (no SMS follows),
        # and the reception moves him, which ends the request.
        control.advance_to(local("waw-zdrowie", 28, 10, 30).astimezone(UTC))
        asked = browser.follow(
            link_of("waw-zdrowie", "w-103"),
            "change-time",
            days="later",
            times="morning",
            note="Najlepiej przed 10:00.",
        )
        _ok(asked)
        note(
            "waw-zdrowie",
            names[("waw-zdrowie", "piotr")],
            f"asks for another time from his reminder's page: later, mornings (HTTP {asked.status_code})",
        )
        control.advance_to(local("waw-zdrowie", 28, 12).astimezone(UTC))
        (request,) = [
            n["data"]
            for n in pms["waw-zdrowie"].get("notices").json()["notices"]
            if n["type"] == "appointment.reschedule_requested"
        ]
        later = local("waw-zdrowie", 31, 8, 30)
        _ok(
            pms["waw-zdrowie"].send(
                "appointment.rescheduled",
                {
                    "appointment_id": "w-103",
                    "start": later.isoformat(),
                    "end": (later + timedelta(minutes=30)).isoformat(),
                },
            )
        )
        note(
            "waw-zdrowie",
            "reception",
            f"reads appointment.reschedule_requested ({request['days']}, {request['times']}, "
            f'"{request["note"]}") and moves Piotr to Tue 31 Mar 08:30',
        )
        # D22: Emma asks Lumière for an earlier day for Tuesday's cleaning, then finds she
        # can come after all: "Keep my booked time" confirms it and ends the request, and
        # the reception hears so (it stops looking for another time).
        control.advance_to(local("par-lumiere", 29, 9).astimezone(UTC))
        _ok(browser.follow(link_of("par-lumiere", "p-207"), "change-time", days="earlier"))
        note("par-lumiere", names[("par-lumiere", "emma")], "asks for another time for Tuesday: an earlier day")
        control.advance_to(local("par-lumiere", 29, 20).astimezone(UTC))
        kept = browser.follow(link_of("par-lumiere", "p-207"), "confirm")
        _ok(kept)
        note(
            "par-lumiere",
            names[("par-lumiere", "emma")],
            f"can come after all: presses 'Keep my booked time' (HTTP {kept.status_code})",
        )
        (withdrawn,) = [
            n["data"]
            for n in pms["par-lumiere"].get("notices").json()["notices"]
            if n["type"] == "appointment.reschedule_withdrawn"
        ]
        note(
            "par-lumiere",
            "practice API",
            f"notices: appointment.reschedule_withdrawn for {withdrawn['appointment_id']} "
            f"(because {withdrawn['because']}) beside appointment.confirmed: Tuesday stands",
        )
        control.advance_to(END)

        every = control.outbox()
        rows = [r for r in every if r["practice_id"] in PRACTICES]
        imported = [r for r in every if r["practice_id"] == IMPORT]
        skipped = [r for r in control.skipped() if r["practice_id"] in PRACTICES]
        week = {"from": "2026-03-24", "to": "2026-03-30"}
        outcome_tables = {p: c.get("outcomes", **week).json()["totals"] for p, c in pms.items()}
        for practice_id, client in pms.items():
            totals = client.get("statistics", **{"from": "2026-03-24", "to": "2026-03-30"}).json()["totals"]
            used = ", ".join(f"{k} {v}" for k, v in totals.items() if v)
            note(practice_id, PRACTICES[practice_id]["name"], f"statistics API, 24-30 Mar: {used}")
        notes.append(_erase_antek(pms["waw-zdrowie"], control, stack.table_name))
        notes.append(_recall_rule_follows(pms["waw-zdrowie"], control))
        notes.append(_nowa_leaves(control, stack.table_name))
    finally:
        stack.stop()
    _print_timeline(rows, skipped, notes, names, started, time.perf_counter() - wall)
    _print_paced(imported)
    _print_outcomes(outcome_tables)


def _erase_antek(pms, control, table: str) -> Note:  # noqa: ANN001
    """P1 after the week: Antek's family asks the practice to erase his data. Both passes
    run; then no item of the table names him, and the family's one reminder (R11), kept in
    Zofia's history, no longer lists him."""
    import boto3

    from notify.services.erasure import SECOND_PASS_AFTER

    _ok(pms.send("patient.erased", {"patient_id": "antek"}))
    control.advance((SECOND_PASS_AFTER + timedelta(minutes=1)).total_seconds())
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    items = [item for page in pages for item in page["Items"]]
    naming, scanned = sum("Antek" in str(item) for item in items), len(items)
    (reminder,) = [
        m
        for m in pms.get("appointments/w-109").json()["messages"]
        if (m["channel"], m["kind"]) == ("sms", "reminder")
    ]
    return Note(
        control.now(),
        "waw-zdrowie",
        "practice API",
        f"erases Antek (P1): {naming} of {scanned} items name him; the family's reminder in Zofia's "
        f"history now reads {reminder['text']!r}",
    )


def _recall_rule_follows(pms, control) -> Note:  # noqa: ANN001
    """C8 for K1: Przychodnia Zdrowie now recalls its internist's patients after a year,
    not half a year; Jan's recall, started by Friday's visit, moves with the rule."""
    from notify.services.settings_follow import NEXT_PAGE_AFTER

    def due() -> str:
        (recall,) = pms.get("patients/jan/export").json()["recalls"]
        day = datetime.fromisoformat(recall["due_at"]).astimezone(ZoneInfo(PRACTICES["waw-zdrowie"]["timezone"]))
        return day.strftime("%a %d %b %Y")

    was = due()
    rules = [dict(PRACTICES["waw-zdrowie"]["recall_rules"][0], interval_days=365)]
    _ok(pms.send("practice.configured", {"settings": {**PRACTICES["waw-zdrowie"], "recall_rules": rules}}))
    control.advance((NEXT_PAGE_AFTER + timedelta(minutes=1)).total_seconds())
    return Note(
        control.now(),
        "waw-zdrowie",
        "practice API",
        f"practice.configured: internist check-ups recalled after 365 days (was 182); Jan's recall "
        f"from Friday's visit moves from {was} to {due()}",
    )


def _nowa_leaves(control, table: str) -> Note:  # noqa: ANN001
    """D19: Centrum Medyczne Nowa ends its contract before its patients' visits of 14 April.
    The operator closes it; its erasure runs 15 minutes later; then nothing in the table
    but the record of its leaving names it, and none of its reminders is waiting."""
    import boto3

    from notify.services.offboarding import ERASE_AFTER
    from ops.practice import offboard, status

    waiting = len(control.schedules(f"{IMPORT}."))
    offboard(IMPORT)
    control.advance((ERASE_AFTER + timedelta(minutes=5)).total_seconds())
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    naming = [item.get("entity", {}).get("S") for page in pages for item in page["Items"] if IMPORT in str(item)]
    state = status(IMPORT)
    return Note(
        control.now(),
        "waw-zdrowie",
        "operator",
        f"offboards {IMPORT_SETTINGS['name']} (D19): {state['items_removed']} items erased and "
        f"{waiting - len(control.schedules(f'{IMPORT}.'))} of its {waiting} schedules withdrawn; "
        f"what still names it: {sorted(set(naming))} (the record of its leaving, and event markers "
        "that expire in 30 days)",
    )


def _bulk_import(pms) -> None:  # noqa: ANN001
    """IMPORT's book: SMS-only patients booked for 14 April, all in one moment."""
    day = datetime(2026, 4, 14, 8, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    for i in range(IMPORT_SIZE):
        _ok(
            pms.send(
                "patient.upserted", {"patient_id": f"n{i}", "name": f"Pacjent {i}", "phone": f"600 100 {i:03d}"}
            )
        )
    for i in range(IMPORT_SIZE):
        start = day + timedelta(minutes=15 * i)
        _ok(
            pms.send(
                "appointment.created",
                {
                    "appointment_id": f"n-{i}",
                    "patient_id": f"n{i}",
                    "start": start.isoformat(),
                    "end": (start + timedelta(minutes=15)).isoformat(),
                },
            )
        )


def _print_paced(rows: list[dict]) -> None:
    """How the import's confirmations met the SMS rate: when each left, none lost."""
    from notify.domain.sms_pacing import Lane, share

    sms = [r for r in rows if r["channel"] == "sms" and r["kind"] == "confirmation"]
    if not sms:
        return
    left = sorted(datetime.fromisoformat(r["at"].replace("Z", "+00:00")) for r in sms)
    first = left[0]
    at_once = sum(1 for t in left if t == first)
    parts = sum(r["segments"] or 0 for r in sms)
    appointments = len({r["appointment_id"] for r in sms})
    print(
        f"\nPaced SMS (D17): {IMPORT_SETTINGS['name']}'s {IMPORT_SIZE} bookings, {len(sms)} SMS confirmations"
        f" ({parts} parts) due {_fmt(first, 'waw-zdrowie')}:"
    )
    print(
        f"  {at_once} left at once, {len(sms) - at_once} waited in the paced queue and left by"
        f" {left[-1].astimezone(ZoneInfo('Europe/Warsaw')):%H:%M:%S}"
        f" (routine lane: {20 * share(Lane.ROUTINE):g} of the account's 20 parts a second);"
        f" {sum(1 for r in sms if r['delivered_to_provider'])} of {IMPORT_SIZE} taken by the provider,"
        f" {appointments} appointments, {len(sms) - appointments} sent twice."
    )


def _ok(response) -> None:  # noqa: ANN001
    if response.status_code >= 400:
        raise RuntimeError(f"{response.status_code}: {response.text}")


def _print_timeline(
    rows: list[dict], skipped: list[dict], notes: list[Note], names: dict, started: float, wall: float
) -> None:
    events = [(datetime.fromisoformat(r["at"].replace("Z", "+00:00")), "msg", r) for r in rows]
    events += [(n.at, "note", n) for n in notes]
    events.sort(key=lambda e: (e[0], e[1] == "msg"))
    print("\nPatient notifications, Tue 24 to Mon 30 March 2026 (DST starts Sun 29 at 02:00)")
    print("practice-local time     practice             patient                channel kind")
    print("-" * 100)
    for at, kind, item in events:
        if kind == "note":
            print(f"{_fmt(at, item.practice):23} {'':20} {item.who:22} ~ {item.what}")
            continue
        row = item
        who = names.get((row["practice_id"], row["patient_id"]), row["patient_id"])
        label = f"{row['channel']:5} {row['kind']}"
        print(f"{_fmt(at, row['practice_id']):23} {PRACTICES[row['practice_id']]['name']:20} {who:22} {label}")
        text = (row["text"] or "") if row["channel"] != "email" else f"[{row['subject']}]"
        extra = (
            f" ({row['segments']} SMS part{'s' if row['segments'] != 1 else ''})"
            if row["channel"] == "sms"
            else ""
        )
        for line in textwrap.wrap(text + extra, 74):
            print(f"{'':46}  | {line}")
    sent = {(r["appointment_id"], r["kind"]) for r in rows}
    unsent: dict[tuple[str, str], list[str]] = {}
    for row in skipped:
        key = (row["appointment_id"], row["kind"])
        if key not in sent:
            unsent.setdefault(key, []).append(f"{row['channel']}: {row['reason']}")
    if unsent:
        print("\nMessages that could not go out, with the reasons recorded in the ledger:")
        for (appointment, kind), reasons in sorted(unsent.items()):
            print(f"  {appointment:6} {kind:13} {'; '.join(reasons)}")
    print(f"({len(skipped)} channel skips recorded in all, e.g. push for patients without the app)")
    by_channel: dict[str, int] = {}
    for row in rows:
        by_channel[row["channel"]] = by_channel.get(row["channel"], 0) + 1
    parts = sum(r["segments"] or 0 for r in rows if r["channel"] == "sms")
    delivered = sum(1 for r in rows if r["delivered_to_provider"])
    print(
        f"\n{len(rows)} messages ({', '.join(f'{v} {k}' for k, v in sorted(by_channel.items()))}),"
        f" {parts} SMS parts; {delivered}/{len(rows)} confirmed by the emulated providers."
    )
    print(f"Stack up in {started:.1f}s; a simulated week in {wall:.1f}s of wall time.")


OUTCOME_ROWS = (
    ("appointments booked", "booked"),
    ("confirmed by link", "confirmed_link"),
    ("confirmed by SMS answer", "confirmed_sms"),
    ("confirmed in the app", "confirmed_app"),
    ("confirmation rate", "confirmation_rate"),
    ("cancelled by the patient", "cancelled_by_patient"),
    ("attended / no-shows", ("attended", "no_shows")),
    ("no-show rate", "no_show_rate"),
    ("freed slots offered / filled", ("slots_offered", "slots_filled")),
    ("minutes to fill (median, p90)", ("median_minutes_to_fill", "p90_minutes_to_fill")),
    ("SMS parts per appointment", "sms_parts_per_appointment"),
    ("reminders escalated to SMS", "escalation_rate"),
)


def _print_outcomes(tables: dict[str, dict]) -> None:
    """A1: what the week's messages achieved, per practice (the practice API's figures)."""
    practices = list(tables)
    print("\nOutcomes of the week (GET /practices/{id}/outcomes, 24-30 Mar)")
    print(f"{'':32}" + "".join(f"{PRACTICES[p]['name']:>24}" for p in practices))
    for label, key in OUTCOME_ROWS:
        cells = []
        for practice in practices:
            values = [tables[practice][k] for k in (key if isinstance(key, tuple) else (key,))]
            shown = [
                "-"
                if v is None
                else (f"{v:.0%}" if "rate" in str(key) else (f"{v:g}" if isinstance(v, float) else str(v)))
                for v in values
            ]
            cells.append(" / ".join(shown) if len(shown) > 1 else shown[0])
        print(f"{label:32}" + "".join(f"{c:>24}" for c in cells))

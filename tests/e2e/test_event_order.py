"""B9 over HTTP: events delivered late, twice and out of order; the latest real-world
change wins, notices follow only the settled state, and the shuffled drill ends exactly
like the in-order run."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notify.domain.message_plan import SPREAD

from .conftest import NOTICE_DELAY, PACED_SMS_WAIT, own_mobile

SHUFFLES = int(os.environ.get("B9_SHUFFLES", "12"))  # `make soak` runs more


def _move(s, appointment_id: str, start, occurred_at, **kwargs):
    return s.pms.send(
        "appointment.rescheduled",
        {
            "appointment_id": appointment_id,
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        },
        occurred_at=occurred_at,
        **kwargs,
    )


def test_b9_a_confirmation_from_the_link_plans_no_settle(scenario, control, aws_requests):
    """Issue 16: the patient confirming plans no settle schedule (nothing to announce, no
    slot freed); the practice API shows it confirmed, and a cancellation after it settles."""
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", control.now() + timedelta(days=5))
    aws_requests.clear()
    assert s.tap("a1", "confirm").status_code == 200
    s.settle()
    schedules = [p["Name"] for op, p in aws_requests if op == "CreateSchedule"]
    assert not [name for name in schedules if ".settle." in name]
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "confirmed"
    s.change("appointment.cancelled", {"appointment_id": "a1"})
    assert [m["status"] for m in s.messages("a1", kind="cancellation")] == ["sent"]


def test_b9_a_visits_outcome_plans_no_settle_and_a_later_correction_tells_nobody(scenario, control, aws_requests):
    """Issue 16: attended and no-show plan no settle schedule (nothing to announce, no
    slot freed); the practice cancelling the visit afterwards sends no notice (R5)."""
    s = scenario()
    for pid in ("came", "missed"):
        s.patient(pid)
        s.book(pid, pid, control.now() + timedelta(days=2))
    control.advance(2 * 86400 + 3600)
    aws_requests.clear()
    s.change("appointment.attended", {"appointment_id": "came"})
    s.change("appointment.no_show", {"appointment_id": "missed"})
    schedules = [p["Name"] for op, p in aws_requests if op == "CreateSchedule"]
    assert not [name for name in schedules if ".settle." in name]
    for pid in ("came", "missed"):
        s.change("appointment.cancelled", {"appointment_id": pid})
        assert s.pms.get(f"appointments/{pid}").json()["appointment"]["status"] == "cancelled"
        assert s.messages(pid, kind="cancellation") == []


def test_r3_a_visits_outcome_withdraws_no_reminder_that_already_went(scenario, control, aws_requests):
    """Issue 16: once a reminder's schedule has run its course, the visit's outcome (or a
    later correction) neither deletes it nor writes its ledger row: it stays as sent."""
    s = scenario(reminder_offsets_hours=[24])
    s.patient("pat", phone="601 234 567")
    start = control.now() + timedelta(days=3)
    s.book("a1", "pat", start)
    control.advance_to(start + timedelta(hours=1))
    assert [m["status"] for m in s.messages("a1", kind="reminder")] == ["sent"]
    aws_requests.clear()
    s.change("appointment.attended", {"appointment_id": "a1"})
    assert not [op for op, _ in aws_requests if op == "DeleteSchedule"]
    rows = [p for op, p in aws_requests if op == "UpdateItem" and "LEDGER#" in json.dumps(p, default=str)]
    assert rows == []
    assert [m["status"] for m in s.messages("a1", kind="reminder")] == ["sent"]


def test_b9_the_newer_reschedule_wins_when_the_older_arrives_last(scenario, control):
    s = scenario()
    s.patient("pat")
    first = s.local(6, 10)
    s.book("a1", "pat", first)
    now = control.now()
    monday, tuesday = s.local(7, 10), s.local(8, 10)
    newer = _move(s, "a1", tuesday, now - timedelta(seconds=30))  # 11:30 -> Tuesday
    older = _move(s, "a1", monday, now - timedelta(seconds=60))  # 11:00 -> Monday
    assert newer.json()["status"] == "applied"
    assert older.status_code == 202 and older.json()["status"] == "stale"
    s.settle()
    report = s.pms.get("appointments/a1").json()
    assert report["appointment"]["start"] == tuesday.isoformat()
    notices = s.messages("a1", kind="reschedule")
    assert len(notices) == 1, "one notice, about where the appointment ended"
    assert (
        tuesday.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Warsaw")).strftime("%d.%m")
        in notices[0]["text"]
        or "10:00" in notices[0]["text"]
    )
    stale = [m for m in report["messages"] if m["channel"] == "event"]
    assert [(m["kind"], m["status"]) for m in stale] == [("appointment.rescheduled", "stale")]
    control.advance_to(tuesday)
    assert [s.due(r) for r in s.messages("a1", kind="reminder")] == [tuesday - timedelta(hours=48)]


def test_b9_a_cancellation_before_its_creation_keeps_the_appointment_cancelled(scenario, control):
    s = scenario()
    s.patient("pat")
    start = s.local(5)
    now = control.now()
    cancelled = s.pms.send(
        "appointment.cancelled", {"appointment_id": "a1"}, occurred_at=now - timedelta(seconds=10)
    )
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "held"
    created = s.pms.send(
        "appointment.created",
        {
            "appointment_id": "a1",
            "patient_id": "pat",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        },
        occurred_at=now - timedelta(seconds=40),
    )
    assert created.json()["status"] == "applied"
    s.settle()
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "cancelled"
    control.advance_to(start)
    assert s.messages("a1") == [], "no confirmation, no reminder for a cancelled appointment"
    assert control.schedules(f"{s.pms.practice_id}.a1.") == []


def test_b9_a_stale_cancellation_has_no_effect_and_no_callback(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    # The visit was marked attended after the cancellation the PMS still had queued.
    attended_at = control.now()
    s.change("appointment.attended", {"appointment_id": "a1"}, occurred_at=attended_at)
    late = s.pms.send(
        "appointment.cancelled", {"appointment_id": "a1"}, occurred_at=attended_at - timedelta(minutes=5)
    )
    assert late.json()["status"] == "stale"
    s.settle()
    assert s.pms.get("appointments/a1").json()["appointment"]["status"] == "attended"
    assert s.messages("a1", kind="cancellation") == []


def test_b9_the_pms_sequence_breaks_ties_of_the_same_instant(scenario, control):
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    instant = control.now()
    later, earlier = s.local(7), s.local(6)
    assert _move(s, "a1", later, instant, sequence=8).json()["status"] == "applied"
    assert _move(s, "a1", earlier, instant, sequence=7).json()["status"] == "stale"
    assert s.pms.get("appointments/a1").json()["appointment"]["start"] == later.isoformat()


def test_b9_an_older_patient_update_does_not_overwrite_a_newer_one(scenario, control):
    s = scenario()
    now = control.now()
    newer = s.pms.send(
        "patient.upserted", {"patient_id": "pat", "phone": "601 234 567", "name": "Jan Nowy"}, occurred_at=now
    )
    older = s.pms.send(
        "patient.upserted",
        {"patient_id": "pat", "phone": "", "name": "Jan Stary"},
        occurred_at=now - timedelta(hours=1),
    )
    assert newer.json()["status"] == "applied" and older.json()["status"] == "stale"
    s.book("a1", "pat", s.local(5))
    (sms,) = s.messages("a1", kind="confirmation")
    assert sms["channel"] == "sms"  # the newer record's phone number is kept


def test_f1_the_practice_moving_an_appointment_does_not_offer_its_slot_back_to_its_patient(scenario, control):
    s = scenario()
    slot = s.local(3)
    s.patient("mover")
    s.book("moved", "mover", slot)
    s.patient("other")
    s.book("other", "other", slot + timedelta(days=4))
    s.change(
        "appointment.rescheduled",
        {
            "appointment_id": "moved",
            "start": (slot + timedelta(days=3)).isoformat(),
            "end": (slot + timedelta(days=3, minutes=30)).isoformat(),
        },
    )
    offered = [r["appointment_id"] for r in s.messages(kind="slot_offer")]
    assert offered == ["other"]


@pytest.mark.parametrize("cancellation_first", [False, True])
def test_f1_b9_a_move_that_kept_its_slot_keeps_it_whatever_arrives_first(scenario, control, cancellation_first):
    """The practice moves an appointment away from a time the practitioner no longer has
    (`release_slot: false`), then cancels it (its new time is free). In whichever order
    the two arrive, the time the patient was told of is offered to nobody."""
    s = scenario()
    s.daytime()
    slot = s.local(3)
    s.patient("mover")
    s.book("moved", "mover", slot)
    s.patient("other")
    s.book("other", "other", slot + timedelta(days=4))
    now, later = control.now(), slot + timedelta(days=2)
    move = {
        "appointment_id": "moved",
        "start": later.isoformat(),
        "end": (later + timedelta(minutes=30)).isoformat(),
    }
    deliveries = [
        ("appointment.rescheduled", {**move, "release_slot": False}, now - timedelta(seconds=5)),
        ("appointment.cancelled", {"appointment_id": "moved"}, now),
    ]
    for kind, data, occurred_at in reversed(deliveries) if cancellation_first else deliveries:
        # each applies: the move's time aspect is newer than the booking's either way
        assert s.pms.send(kind, data, occurred_at=occurred_at).json()["status"] == "applied"
    s.settle()
    assert s.pms.get("appointments/moved").json()["appointment"]["status"] == "cancelled"
    assert s.messages("moved", kind="cancellation") and s.messages(kind="slot_offer") == []


# -- the shuffled drill ------------------------------------------------------------------
_changes = st.lists(
    st.one_of(
        # the last: whether the time the change leaves is free for others (F1)
        st.tuples(st.just("appointment.rescheduled"), st.integers(3, 6), st.integers(9, 15), st.booleans()),
        st.tuples(st.just("appointment.cancelled"), st.just(0), st.just(0), st.booleans()),
        st.tuples(st.just("appointment.notifications"), st.booleans(), st.just(0), st.just(True)),
    ),
    min_size=0,
    max_size=4,
)


def _events(appointment_id: str, days: int, changes, base, created: bool) -> list[tuple]:
    """(occurred_at, event_type, data) of one appointment's history, oldest first."""
    events = (
        [
            (
                base,
                "appointment.created",
                {"appointment_id": appointment_id, "patient_id": f"pat-{appointment_id}", "day": days, "hour": 12},
            )
        ]
        if created
        else []
    )
    for index, (kind, a, b, release_slot) in enumerate(changes, start=1):
        data: dict = {"appointment_id": appointment_id}
        if not release_slot:
            data["release_slot"] = False
        if kind == "appointment.rescheduled":
            data.update(day=a, hour=b)
        elif kind == "appointment.notifications":
            data["enabled"] = a
        events.append((base + timedelta(seconds=7 * index), kind, data))
    return events


def _deliver(s, history: list[tuple], order: list[int], duplicate: set[int]) -> None:
    ids = {i: uuid.uuid4().hex for i in range(len(history))}
    for i in order:
        occurred_at, kind, data = history[i]
        data = dict(data)
        if "day" in data:
            start = s.local(data.pop("day"), data.pop("hour"))
            data.update(start=start.isoformat(), end=(start + timedelta(minutes=30)).isoformat())
        for _ in range(2 if i in duplicate else 1):
            response = s.pms.send(kind, data, event_id=ids[i], occurred_at=occurred_at)
            assert response.status_code == 202, response.text


def _final(s, appointment_ids) -> dict:
    out = {}
    for appointment_id in appointment_ids:
        response = s.pms.get(f"appointments/{appointment_id}")
        body = response.json()["appointment"] if response.status_code == 200 else None
        out[appointment_id] = body and {k: body[k] for k in ("status", "start", "end", "notifications_enabled")}
    return out


def _sent(s, until: str = "9999") -> list[tuple]:
    """What went out and when: a planned message by its due time (it leaves somewhere in its
    flexible window, a different moment for each practice, as on AWS), others by send time;
    only what was due by `until` (ISO, UTC)."""
    rows = ((r["appointment_id"], r["kind"], r["channel"], r["due"] or r["at"]) for r in s.messages())
    return sorted(row for row in rows if row[3] <= until)


def _same_sends(shuffled: list[tuple], in_order: list[tuple]) -> bool:
    """The same messages at the same moments; one sent at once may leave a few seconds
    apart in the two practices, which share the account's SMS rate (D17: the paced queue
    takes whichever of their SMS comes second)."""

    def moment(row: tuple) -> datetime:
        return datetime.fromisoformat(row[3].replace("Z", "+00:00"))

    return len(shuffled) == len(in_order) and all(
        a[:3] == b[:3] and abs(moment(a) - moment(b)) <= PACED_SMS_WAIT
        for a, b in zip(shuffled, in_order, strict=True)
    )


@settings(
    max_examples=SHUFFLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=_changes, second=_changes, later_a=_changes, later_b=_changes, data=st.data())
def test_b4_b9_shuffled_and_duplicated_deliveries_end_like_the_in_order_run(
    scenario, control, first, second, later_a, later_b, data
):
    """Two practices get the same events about two appointments (and a third, later one
    that never changes), in two bursts (the second after the first was announced), each
    burst within the notice delay: one practice in the order things happened, the other
    shuffled (changes before their creation included, and the patients' records after
    their bookings) with some events delivered twice. Cancellations and moves say at
    random whether the time they leave is free (F1). Final states and messages sent
    (confirmations, reschedule and cancellation notices, reminders, freed-slot offers)
    must be equal."""
    in_order, shuffled = scenario(), scenario()
    # Each patient their own number: two sharing one would get one reminder a day for both
    # (R11), owned by whichever reminder fires first in its flexible window, a different one
    # in each practice.
    numbers = {"pat-a": own_mobile(), "pat-b": own_mobile(), "pat-c": own_mobile()}
    events = 0
    for burst, (changes_a, changes_b) in enumerate(((first, second), (later_a, later_b))):
        base = control.now() - NOTICE_DELAY / 2
        history = _events("a", 4, changes_a, base, created=burst == 0) + _events(
            "b", 5, changes_b, base + timedelta(seconds=1), created=burst == 0
        )
        # c never changes: later than a and b, it is offered any slot they free (F1, D20)
        history += _events("c", 7, [], base + timedelta(seconds=2), created=burst == 0)
        if burst == 0:  # the patients' records, written just before their bookings
            history += [
                (
                    base - timedelta(seconds=1),
                    "patient.upserted",
                    {"patient_id": p, "phone": n, "name": "Jan Nowak"},
                )
                for p, n in numbers.items()
            ]
        elif data.draw(st.booleans(), label="pat-a's record changes too"):  # SMS off, then on again or not
            history += [
                (
                    base + timedelta(seconds=2 + 7 * i),
                    "patient.upserted",
                    {"patient_id": "pat-a", "phone": numbers["pat-a"], "name": "Jan Nowak", "sms_enabled": on},
                )
                for i, on in enumerate([False, *data.draw(st.lists(st.just(True), max_size=1), label="on again")])
            ]
        history.sort(key=lambda e: e[0])
        order = data.draw(st.permutations(range(len(history))), label=f"burst {burst} order")
        duplicate = (
            set(
                data.draw(
                    st.lists(st.sampled_from(range(len(history))), max_size=3),
                    label=f"burst {burst} delivered twice",
                )
            )
            if history
            else set()
        )
        _deliver(in_order, history, list(range(len(history))), set())
        _deliver(shuffled, history, list(order), duplicate)
        control.advance(NOTICE_DELAY.total_seconds())
        events += len(history)
    # Past the end by a flexible window, so whatever was due by the end has left in both
    # practices wherever in its window it fell; compared up to the end.
    end = in_order.local(7)
    control.advance_to(end + SPREAD)
    until = end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _final(shuffled, "ab") == _final(in_order, "ab")
    for patient in numbers:  # the latest record of each patient, whatever the order
        records = [s.pms.get(f"patients/{patient}/export").json()["patient"] for s in (in_order, shuffled)]
        assert records[0] == records[1], records
    assert _same_sends(_sent(shuffled, until), _sent(in_order, until)), (
        _sent(shuffled, until),
        _sent(in_order, until),
    )
    _drill["sequences"] += 1
    _drill["events"] += events
    _drill["messages"] += len(_sent(in_order))
    for kind in ("confirmation", "reschedule", "cancellation", "reminder", "slot_offer"):
        _drill[kind] = _drill.get(kind, 0) + sum(1 for m in _sent(in_order) if m[1] == kind)


_drill = {"sequences": 0, "events": 0, "messages": 0}


def test_b4_b9_drill_figures():
    """Prints what the shuffled drill tried (run after it in the same worker)."""
    kinds = ", ".join(f"{k} {v}" for k, v in _drill.items() if k not in ("sequences", "events", "messages"))
    print(
        f"B9 shuffled drill: {_drill['sequences']} sequences, {_drill['events']} events, "
        f"{_drill['messages']} messages compared ({kinds}), 0 final states and 0 messages "
        "differing"
    )

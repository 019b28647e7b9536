"""C8 with R2, R9, R10, B2: a practice's settings change reaches the appointments it booked
before. Messages are planned when an appointment changes; when the practice changes its
reminders, quiet hours or policies, the planner follows every booked appointment, page by
page (services/settings_follow.py), from what the ledger says is planned."""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops.practice import configure

from ..conftest import PRACTICE_DEFAULTS
from .conftest import own_mobile

FOLLOW_UP = timedelta(minutes=3)  # the follow-up's page runs a minute after the change


def _schedule_rows(s, appointment_id: str) -> dict[str, dict]:
    """The appointment's rows on the pseudo-channel `schedule`, by message id."""
    messages = s.pms.get(f"appointments/{appointment_id}").json()["messages"]
    return {m["message_id"]: m for m in messages if m["channel"] == "schedule"}


def test_c8_r10_a_reminder_the_practice_drops_is_withdrawn_and_a_new_one_planned(scenario, control):
    """The practice sends 48 h and 24 h reminders, then 24 h and 2 h: an appointment booked
    before gets the 24 h and the 2 h reminder, not the 48 h one, whose row says why."""
    settings = dict(PRACTICE_DEFAULTS, reminder_offsets_hours=[48, 24])
    s = scenario(**settings)
    s.patient("pat")
    start = s.local(5)
    s.book("a1", "pat", start)
    configure(s.pms.practice_id, **dict(settings, reminder_offsets_hours=[24, 2]))
    control.advance(FOLLOW_UP.total_seconds())
    rows = _schedule_rows(s, "a1")
    assert rows["a1#reminder#v1#48h"]["status"] == "cancelled"
    assert "settings no longer plan" in rows["a1#reminder#v1#48h"]["reason"]
    assert {rows[m]["status"] for m in ("a1#reminder#v1#24h", "a1#reminder#v1#2h")} == {"planned"}

    control.advance_to(start - timedelta(minutes=30))
    reminders = s.messages("a1", kind="reminder")
    assert sorted(start - s.due(r) for r in reminders) == [timedelta(hours=2), timedelta(hours=24)]
    assert [r["status"] for r in reminders] == ["sent", "sent"]


def test_c8_b2_a_changed_reminder_time_moves_the_planned_reminder(scenario, control, aws_requests):
    """One reminder (R2) at the practice's fixed offset: the practice moves it from 3 h to
    5 h before the visit. The same message is planned, at its new moment, and goes once.
    AWS's UpdateSchedule sets every field the request leaves out to its default (its API
    reference; moto keeps the old values): the move gives the whole definition again,
    deletion after completion, flexible window, retries and dead-letter queue included."""
    settings = dict(PRACTICE_DEFAULTS, reminder_policy="fixed", fixed_offset_hours=3)
    s = scenario(**settings)
    s.patient("pat")
    start = s.local(4, 15)  # 10:00 and 12:00 are out of quiet hours (B2)
    s.book("a1", "pat", start)
    assert _schedule_rows(s, "a1")["a1#reminder#v1"]["due_at"] == (start - timedelta(hours=3)).isoformat()
    (created,) = [p for op, p in aws_requests if op == "CreateSchedule" and p["Name"].endswith(".a1.reminder.v1")]
    configure(s.pms.practice_id, **dict(settings, fixed_offset_hours=5))
    control.advance(FOLLOW_UP.total_seconds())
    (moved,) = [p for op, p in aws_requests if op == "UpdateSchedule"]
    assert moved.keys() == created.keys() and moved["ActionAfterCompletion"] == "DELETE"
    assert moved["FlexibleTimeWindow"]["Mode"] == "FLEXIBLE"  # its width follows the new moment
    when = {"ScheduleExpression", "FlexibleTimeWindow", "ClientToken"}  # the token: the SDK's, per request
    assert {k: v for k, v in moved.items() if k not in when} == {k: v for k, v in created.items() if k not in when}
    row = _schedule_rows(s, "a1")["a1#reminder#v1"]
    assert row["status"] == "planned" and row["due_at"] == (start - timedelta(hours=5)).isoformat()
    assert "settings changed its moment" in row["history"][-1]["reason"]

    control.advance_to(start)
    (reminder,) = s.messages("a1", kind="reminder")
    assert s.due(reminder) == start - timedelta(hours=5)


def test_c8_r9_reminders_after_confirmation_switched_off_and_on_again(scenario, control):
    """A confirmed appointment's reminder is withdrawn when the practice stops reminding
    confirmed patients, and planned again when it starts again: it goes once."""
    s = scenario()
    s.patient("pat")
    start = s.local(5)
    s.book("a1", "pat", start)
    assert s.tap("a1", "confirm").status_code == 200
    s.settle()
    configure(s.pms.practice_id, **dict(PRACTICE_DEFAULTS, remind_after_confirmation=False))
    control.advance(FOLLOW_UP.total_seconds())
    (row,) = _schedule_rows(s, "a1").values()
    assert row["status"] == "cancelled", row
    configure(s.pms.practice_id, **PRACTICE_DEFAULTS)
    control.advance(FOLLOW_UP.total_seconds())
    (row,) = _schedule_rows(s, "a1").values()
    assert row["status"] == "planned" and "once more" in row["history"][-1]["reason"], row
    control.advance_to(start)
    assert [r["status"] for r in s.messages("a1", kind="reminder")] == ["sent"]


def test_c8_a_calendars_own_settings_change_reaches_its_appointments_only(scenario, control):
    """A calendar's own reminder time changes (C8's per-calendar settings): its booked
    appointments follow, another calendar's keep theirs."""
    settings = dict(PRACTICE_DEFAULTS, reminder_policy="fixed", fixed_offset_hours=24)
    s = scenario(**settings)
    s.patient("pat")
    start = s.local(4, 15)
    s.book("room", "pat", start, calendar_id="room-2")
    s.book("main", "pat", start + timedelta(hours=1))
    configure(s.pms.practice_id, calendars={"room-2": {"fixed_offset_hours": 3}}, **settings)
    control.advance(FOLLOW_UP.total_seconds())
    assert _schedule_rows(s, "room")["room#reminder#v1"]["due_at"] == (start - timedelta(hours=3)).isoformat()
    due = (start + timedelta(hours=1) - timedelta(hours=24)).isoformat()
    assert _schedule_rows(s, "main")["main#reminder#v1"]["due_at"] == due


CHECKUP = {"recall_type": "checkup", "interval_days": 7, "appointment_types": ["Check-up"]}


def _visited(s, appointment_id: str, patient_id: str, start) -> None:
    s.book(appointment_id, patient_id, start, appointment_type="Check-up")
    s.control.advance_to(start + timedelta(minutes=40))
    assert s.pms.send("appointment.attended", {"appointment_id": appointment_id}).status_code == 202


def _recall(s, patient_id: str) -> dict:
    (recall,) = s.pms.get(f"patients/{patient_id}/export").json()["recalls"]
    return recall


def _day(start, days: int) -> datetime:
    """The first minute of the practice-local day `days` after `start`'s (K1's due day)."""
    zone = ZoneInfo(PRACTICE_DEFAULTS["timezone"])
    return datetime.combine(start.astimezone(zone).date() + timedelta(days=days), time(0), zone)


def test_c8_k1_a_new_recall_interval_moves_the_recall_a_visit_started(scenario, control):
    """Check-ups recalled 7 days after the visit, then 14: the recall not yet sent moves to
    the 14th day (from the same visit) and goes then, once; the PMS's own recall stays."""
    settings = dict(PRACTICE_DEFAULTS, recall_rules=[CHECKUP], recall_hour=10)
    s = scenario(**settings)
    s.patient("pat", phone=own_mobile())
    s.patient("pms", phone=own_mobile())
    visit = s.local(1, 9)
    _visited(s, "v1", "pat", visit)
    pms_due = s.local(30, 8)
    assert (
        s.pms.send(
            "recall.due", {"patient_id": "pms", "recall_type": "checkup", "due_at": pms_due.isoformat()}
        ).status_code
        == 202
    )
    assert datetime.fromisoformat(_recall(s, "pat")["due_at"]) == _day(visit, 7)
    before = _recall(s, "pms")

    configure(s.pms.practice_id, **dict(settings, recall_rules=[dict(CHECKUP, interval_days=14)]))
    control.advance(FOLLOW_UP.total_seconds())

    moved = _recall(s, "pat")
    assert datetime.fromisoformat(moved["due_at"]) == _day(visit, 14) and moved["status"] == "due"
    assert _recall(s, "pms") == before
    control.advance_to(_day(visit, 13) + timedelta(hours=11))
    assert s.messages(kind="recall", patient_id="pat") == []
    control.advance_to(_day(visit, 14) + timedelta(hours=11))
    (sent,) = s.messages(kind="recall", patient_id="pat")
    assert s.at(sent) >= _day(visit, 14) + timedelta(hours=10)


def test_c8_k1_a_recall_the_rules_no_longer_cover_stops_and_starts_again_with_them(scenario, control):
    """The practice recalls check-ups no more (its rule now covers hygiene visits only):
    the recall a check-up started stops. The practice puts the rule back: it starts again,
    due as the rule says, and goes once."""
    settings = dict(PRACTICE_DEFAULTS, recall_rules=[CHECKUP], recall_hour=10)
    s = scenario(**settings)
    s.patient("pat", phone=own_mobile())
    visit = s.local(1, 9)
    _visited(s, "v1", "pat", visit)

    configure(s.pms.practice_id, **dict(settings, recall_rules=[dict(CHECKUP, appointment_types=["Hygiene"])]))
    control.advance(FOLLOW_UP.total_seconds())
    assert _recall(s, "pat")["status"] == "stopped"
    control.advance_to(_day(visit, 3) + timedelta(hours=11))

    configure(s.pms.practice_id, **settings)
    control.advance(FOLLOW_UP.total_seconds())
    again = _recall(s, "pat")
    assert again["status"] == "due" and datetime.fromisoformat(again["due_at"]) == _day(visit, 7)
    control.advance_to(_day(visit, 9) + timedelta(hours=11))
    (sent,) = s.messages(kind="recall", patient_id="pat")
    assert s.at(sent) >= _day(visit, 7) + timedelta(hours=10)


def test_c8_settings_written_again_unchanged_follow_nothing(scenario, control, aws_requests):
    """A PMS that sends its whole configuration on every sync changes nothing: no
    follow-up is planned, no appointment's ledger is read."""
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    aws_requests.clear()
    configure(s.pms.practice_id, **PRACTICE_DEFAULTS)
    control.advance(FOLLOW_UP.total_seconds())
    assert not [p for op, p in aws_requests if op == "CreateSchedule" and ".settings." in p["Name"]]
    configure(s.pms.practice_id, **dict(PRACTICE_DEFAULTS, name="Harbour Dental Care"))
    control.advance(FOLLOW_UP.total_seconds())
    assert [p for op, p in aws_requests if op == "CreateSchedule" and ".settings." in p["Name"]]


def test_c8_a_practice_follows_page_by_page_and_a_newer_change_takes_over(scenario, control, monkeypatch):
    """Seven appointments, three a page: the follow-up reaches all of them a page a minute.
    A newer change made while the first is under way stops the first (its pages would
    follow settings that are no longer the practice's) and follows every appointment."""
    from notify.services import settings_follow

    monkeypatch.setattr(settings_follow, "PAGE", 3)  # the run's time budget cuts pages the same way
    settings = dict(PRACTICE_DEFAULTS, reminder_offsets_hours=[48])
    s = scenario(**settings)
    s.patient("pat")
    ids = [f"a{i}" for i in range(7)]
    for i, appointment_id in enumerate(ids):
        s.book(appointment_id, "pat", s.local(5 + i))
    configure(s.pms.practice_id, **dict(settings, reminder_offsets_hours=[24]))
    control.advance(90)  # the first page only
    withdrawn = [a for a in ids if _schedule_rows(s, a)[f"{a}#reminder#v1#48h"]["status"] == "cancelled"]
    assert len(withdrawn) == 3, withdrawn
    configure(s.pms.practice_id, **dict(settings, reminder_offsets_hours=[24, 72]))
    control.advance(4 * FOLLOW_UP.total_seconds())
    for appointment_id in ids:
        rows = _schedule_rows(s, appointment_id)
        assert rows[f"{appointment_id}#reminder#v1#48h"]["status"] == "cancelled", appointment_id
        assert rows[f"{appointment_id}#reminder#v1#24h"]["status"] == "planned", appointment_id
        assert rows[f"{appointment_id}#reminder#v1#72h"]["status"] == "planned", appointment_id


def test_c8_a_run_out_of_time_hands_the_rest_to_the_next_page(scenario, control, monkeypatch):
    """A run stops once its time budget is spent (here at once: one appointment a run), so
    a page of many changes never reaches the planner's timeout; the next page goes on."""
    from notify.services import settings_follow

    monkeypatch.setattr(settings_follow, "RUN_BUDGET_S", 0.0)
    settings = dict(PRACTICE_DEFAULTS, reminder_offsets_hours=[48])
    s = scenario(**settings)
    s.patient("pat")
    for i in range(3):
        s.book(f"a{i}", "pat", s.local(5 + i))
    configure(s.pms.practice_id, **dict(settings, reminder_offsets_hours=[24]))
    control.advance(90)
    states = [_schedule_rows(s, f"a{i}")[f"a{i}#reminder#v1#48h"]["status"] for i in range(3)]
    assert states == ["cancelled", "planned", "planned"]
    control.advance(3 * 60)
    assert {_schedule_rows(s, f"a{i}")[f"a{i}#reminder#v1#48h"]["status"] for i in range(3)} == {"cancelled"}


def test_c8_b4_a_page_delivered_again_changes_nothing(scenario, control, local_stack):
    """A page's schedule can fire twice, or be redriven (B4): the second run finds every
    appointment in line with the settings and writes nothing."""
    from functions.schedule_reminder.handler import lambda_handler
    from local.runtime import LambdaContext
    from notify.dal.practices import get_practice

    settings = dict(PRACTICE_DEFAULTS, reminder_offsets_hours=[48, 24])
    s = scenario(**settings)
    s.patient("pat")
    s.book("a1", "pat", s.local(5))
    configure(s.pms.practice_id, **dict(settings, reminder_offsets_hours=[24, 2]))
    control.advance(FOLLOW_UP.total_seconds())
    before = _schedule_rows(s, "a1")
    digest = get_practice(s.pms.practice_id).configuration
    arn = "arn:aws:lambda:eu-central-1:123456789012:function:schedule_reminder"
    page = {"follow_settings": {"practice_id": s.pms.practice_id, "configuration": digest}}
    again = lambda_handler(page, LambdaContext("schedule_reminder", 512, arn, "test"))
    assert again == {"followed": 1, "changed": [], "more": False}
    assert _schedule_rows(s, "a1") == before


# -- the drill: any sequence of changes ends where the last settings say --------------------
CHANGES = int(os.environ.get("C8_CHANGES", "6"))  # `make soak` runs more

_settings = st.fixed_dictionaries(
    {
        "reminder_policy": st.sampled_from(["lead_time", "fixed"]),
        "fixed_offset_hours": st.sampled_from([3, 5, 24]),
        "reminder_offsets_hours": st.lists(st.sampled_from([2, 3, 24, 48, 72]), max_size=3, unique=True),
        "remind_after_confirmation": st.booleans(),
        "quiet_start": st.sampled_from(["21:00", "19:00"]),
        "timezone": st.sampled_from(["Europe/Warsaw", "Europe/London", "America/New_York"]),
    }
)


def _sent(s, kinds: tuple[str, ...] = ("reminder", "confirmation")) -> list[tuple]:
    """What the patient got of these kinds: each message's kind, channel and due time."""
    rows = [r for r in s.messages() if r["kind"] in kinds]
    return sorted((r["kind"], r["channel"], r["due"] or "") for r in rows)


_drill_settings = settings(
    max_examples=CHANGES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_drill_settings
@given(first=_settings, later=st.lists(_settings, min_size=1, max_size=3), confirms=st.booleans())
def test_c8_r10_any_sequence_of_settings_changes_ends_like_the_last_settings_from_the_start(
    scenario, control, first, later, confirms
):
    """Two practices book the same visit a week ahead (the patient confirming it, or not):
    one changes its settings (time zone and quiet hours included) one to three times after
    booking, a follow-up after each;
    the other had the last settings from the start. What the patients get must be equal:
    the same reminders, each once, due at the same moments."""
    changed, control_practice = scenario(**PRACTICE_DEFAULTS | first), scenario(**PRACTICE_DEFAULTS | later[-1])
    start = changed.local(7, 11)
    for s in (changed, control_practice):
        s.patient("pat", phone=own_mobile())
        s.book("a1", "pat", start)
        if confirms:
            assert s.tap("a1", "confirm").status_code == 200
    for settings_now in later:
        configure(changed.pms.practice_id, **PRACTICE_DEFAULTS | settings_now)
        control.advance(FOLLOW_UP.total_seconds())
    control.advance_to(start + timedelta(hours=1))
    sent = _sent(changed)
    assert sent == _sent(control_practice), (first, later)
    rows = _schedule_rows(changed, "a1").values()
    assert [m for m in rows if m["status"] == "planned"] == []  # everything planned went
    _drill["sequences"] += 1
    _drill["changes"] += len(later)
    _drill["reminders"] += sum(1 for kind, _, _ in sent if kind == "reminder")
    for reason in (h["reason"] or "" for m in rows for h in m["history"]):
        for what in ("withdrawn", "moved", "planned again"):
            key = {"withdrawn": "no longer plan", "moved": "moved:", "planned again": "planned again:"}[what]
            _drill[what] += key in reason


_drill = {
    "sequences": 0,
    "changes": 0,
    "reminders": 0,
    "withdrawn": 0,
    "moved": 0,
    "planned again": 0,
    "after-visit sequences": 0,
    "after-visit messages": 0,
    "recall sequences": 0,
    "recall changes": 0,
    "recalls": 0,
}


_after_visit = st.fixed_dictionaries(
    {
        "review_url": st.sampled_from(["", "https://reviews.example.com/harbour"]),
        "review_for_practice_bookings": st.booleans(),
        "booking_url": st.sampled_from(["", "https://book.example.com/harbour"]),
        "rebook_after_no_show": st.booleans(),
    }
)


AFTER_VISIT = ("review_request", "rebooking_prompt")


@_drill_settings
@given(
    first=_after_visit,
    later=st.lists(_after_visit, min_size=1, max_size=2),
    outcome=st.sampled_from(["appointment.attended", "appointment.no_show"]),
    source=st.sampled_from(["practice", "app"]),
)
def test_c8_r7_settings_changed_after_the_visit_reach_its_review_request_and_prompt(
    scenario, control, first, later, outcome, source
):
    """The visit ends (attended or missed) and the practice then changes its review and
    booking pages (R7's review request 2 h after, the prompt to book again 20 h after):
    what the patient gets afterwards is what a practice with the last settings from the
    start sends."""
    changed, control_practice = scenario(**PRACTICE_DEFAULTS | first), scenario(**PRACTICE_DEFAULTS | later[-1])
    start = changed.local(2, 10)
    for s in (changed, control_practice):
        s.patient("pat", phone=own_mobile())
        s.book("a1", "pat", start, source=source)
    control.advance_to(start + timedelta(minutes=40))
    for s in (changed, control_practice):
        s.change(outcome, {"appointment_id": "a1"})
    for settings_now in later:
        configure(changed.pms.practice_id, **PRACTICE_DEFAULTS | settings_now)
        control.advance(FOLLOW_UP.total_seconds())
    control.advance_to(start + timedelta(days=2))
    sent = _sent(changed, AFTER_VISIT)
    assert sent == _sent(control_practice, AFTER_VISIT), (first, later, outcome, source)
    _drill["after-visit sequences"] += 1
    _drill["after-visit messages"] += len(sent)


_covering_rule = st.fixed_dictionaries(
    {
        "interval_days": st.sampled_from([3, 5, 8]),
        "appointment_types": st.sampled_from([[], ["Check-up"]]),
        "category": st.sampled_from(["health", "result"]),
    }
)
_any_rule = st.fixed_dictionaries(
    {
        "interval_days": st.sampled_from([3, 5, 8]),
        "appointment_types": st.sampled_from([[], ["Check-up"], ["Hygiene"]]),
        "category": st.sampled_from(["health", "result"]),
    }
)


def _rules(of: dict) -> list[dict]:
    """{recall type: rule} as the settings' list."""
    return [{"recall_type": kind, **rule} for kind, rule in sorted(of.items())]


@_drill_settings
@given(
    first=st.fixed_dictionaries({"checkup": _covering_rule, "hygiene": _covering_rule}),
    later=st.lists(st.dictionaries(st.sampled_from(["checkup", "hygiene"]), _any_rule), min_size=1, max_size=3),
)
def test_c8_k1_any_sequence_of_recall_rule_changes_ends_like_the_last_rules_from_the_start(
    scenario, control, first, later
):
    """A check-up starts a recall of each type the practice's rules cover; the practice then
    changes its rules one to three times (intervals, categories, types covered, rules
    dropped and put back), a follow-up after each. A practice with the last rules from the
    start recalls its patient from the same visit: the recalls sent must be equal, each on
    the same day, once. (A rule new since the visit applies from the next visit: the drill
    starts with every type covering it.)"""
    changed = scenario(**PRACTICE_DEFAULTS | {"recall_rules": _rules(first), "recall_hour": 10})
    control_practice = scenario(**PRACTICE_DEFAULTS | {"recall_rules": _rules(later[-1]), "recall_hour": 10})
    visit = changed.local(1, 9)
    for s in (changed, control_practice):
        s.patient("pat", phone=own_mobile())
        s.book("v1", "pat", visit, appointment_type="Check-up")
    control.advance_to(visit + timedelta(minutes=40))
    for s in (changed, control_practice):
        assert s.pms.send("appointment.attended", {"appointment_id": "v1"}).status_code == 202
    for rules_now in later:
        configure(
            changed.pms.practice_id,
            **PRACTICE_DEFAULTS | {"recall_rules": _rules(rules_now), "recall_hour": 10, "recalls_enabled": True},
        )
        control.advance(FOLLOW_UP.total_seconds())
    control.advance_to(_day(visit, 10))

    def recalls_sent(s) -> list[tuple]:
        return sorted((r["channel"], s.at(r).date().isoformat()) for r in s.messages(kind="recall"))

    def recalls_held(s) -> list[tuple]:
        body = s.pms.get("patients/pat/export").json()
        return sorted(
            (r["recall_type"], r["category"], r["due_at"]) for r in body["recalls"] if r["status"] == "sent"
        )

    assert recalls_sent(changed) == recalls_sent(control_practice), (first, later)
    assert recalls_held(changed) == recalls_held(control_practice), (first, later)
    _drill["recall sequences"] += 1
    _drill["recall changes"] += len(later)
    _drill["recalls"] += len(recalls_sent(changed))


def test_c8_drill_figures():
    """Prints what the settings drill tried (run after it in the same worker)."""
    print(
        f"C8 settings drill: {_drill['sequences']} sequences, {_drill['changes']} changes, "
        f"{_drill['reminders']} reminders compared with a practice that had the last settings "
        f"from the start, 0 differing; the follow-ups withdrew {_drill['withdrawn']}, moved "
        f"{_drill['moved']} and planned again {_drill['planned again']}; after the visit: "
        f"{_drill['after-visit sequences']} sequences, {_drill['after-visit messages']} review requests "
        "and prompts to book again compared, 0 differing; recall rules: "
        f"{_drill['recall sequences']} sequences, {_drill['recall changes']} changes, {_drill['recalls']} "
        "recalls compared with a practice that had the last rules from the start, 0 differing"
    )

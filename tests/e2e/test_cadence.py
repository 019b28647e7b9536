"""R10: several reminders per appointment, each planned, withdrawn and replaced like R2's
one (R3, B5), sent once each."""

from __future__ import annotations

from datetime import timedelta


def _schedules(s, appointment_id: str) -> dict[str, dict]:
    messages = s.pms.get(f"appointments/{appointment_id}").json()["messages"]
    return {m["message_id"]: m for m in messages if m["channel"] == "schedule"}


def test_r10_each_offset_reminds_when_the_lead_time_allows_it(scenario, control):
    s = scenario(reminder_offsets_hours=[72, 24, 2])
    s.patient("pat")
    s.patient("late", phone="601 222 333")
    far = s.local(6, 12)  # about six days ahead: all three apply
    s.book("a1", "pat", far)
    # 38-62 hours ahead (72h needs 108h of lead; 24h and 2h apply), at 14:00 so that no
    # reminder falls in quiet hours (B2) whatever the time of day the test starts at.
    near = s.local(2, 14)
    s.book("a2", "late", near)
    assert set(_schedules(s, "a1")) == {"a1#reminder#v1#72h", "a1#reminder#v1#24h", "a1#reminder#v1#2h"}
    assert set(_schedules(s, "a2")) == {"a2#reminder#v1#24h", "a2#reminder#v1#2h"}

    control.advance_to(far - timedelta(hours=30))
    assert s.tap("a1", "confirm").status_code == 200  # a confirmed visit is still reminded
    control.advance_to(far)
    sent = {(r["message_id"], r["channel"]): s.due(r) for r in s.messages("a1", kind="reminder")}
    assert sorted(sent.values()) == [far - timedelta(hours=h) for h in (72, 24, 2)]
    assert len({m for m, _ in sent}) == 3, "each reminder once"
    assert sorted(s.due(r) for r in s.messages("a2", kind="reminder")) == [
        near - timedelta(hours=24),
        near - timedelta(hours=2),
    ]


def test_r10_a_practice_can_stop_reminders_once_the_patient_confirmed(scenario, control):
    s = scenario(reminder_offsets_hours=[72, 24], remind_after_confirmation=False)
    s.patient("pat")
    start = s.local(6, 12)
    s.book("a1", "pat", start)
    control.advance_to(start - timedelta(hours=50))
    (first,) = s.messages("a1", kind="reminder")
    assert s.due(first) == start - timedelta(hours=72)
    assert s.tap("a1", "confirm").status_code == 200
    control.advance_to(start)
    assert len(s.messages("a1", kind="reminder")) == 1
    rows = _schedules(s, "a1")
    assert (rows["a1#reminder#v1#24h"]["status"], rows["a1#reminder#v1#24h"]["reason"]) == (
        "cancelled",
        "appointment confirmed",
    )


def test_r10_a_reschedule_replaces_every_reminder(scenario, control):
    s = scenario(reminder_offsets_hours=[48, 3])
    s.patient("pat")
    start = s.local(5, 12)
    s.book("a1", "pat", start)
    control.advance(3600)
    moved = start + timedelta(days=2)
    s.change(
        "appointment.rescheduled",
        {"appointment_id": "a1", "start": moved.isoformat(), "end": (moved + timedelta(minutes=30)).isoformat()},
    )
    rows = _schedules(s, "a1")
    assert {m: r["status"] for m, r in rows.items()} == {
        "a1#reminder#v1#48h": "cancelled",
        "a1#reminder#v1#3h": "cancelled",
        "a1#reminder#v2#48h": "planned",
        "a1#reminder#v2#3h": "planned",
    }
    control.advance_to(moved)
    assert sorted(s.due(r) for r in s.messages("a1", kind="reminder")) == [
        moved - timedelta(hours=48),
        moved - timedelta(hours=3),
    ]

"""B4 and C7 against the emulator: deliveries repeated by AWS never repeat a message, and
concurrent SMS never pass the quota. These drive the handlers and the data layer
directly (what a schedule firing twice, or 30 senders at once, look like)."""

from __future__ import annotations

import threading
from datetime import timedelta

from local.runtime import LambdaContext


def _context(name: str) -> LambdaContext:
    return LambdaContext(name, 512, f"arn:aws:lambda:eu-central-1:123456789012:function:{name}", "test")


def _book_one(new_practice, control):
    pms = new_practice()
    pms.send("patient.upserted", {"patient_id": "pat", "phone": "601 234 567"})
    start = control.now() + timedelta(days=5)
    pms.send(
        "appointment.created",
        {
            "appointment_id": "a1",
            "patient_id": "pat",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    return pms


def test_b4_a_schedule_firing_twice_sends_the_reminder_once(new_practice, control, local_stack):
    from functions.send_push.handler import lambda_handler

    pms = _book_one(new_practice, control)
    firing = {"practice_id": pms.practice_id, "appointment_id": "a1", "kind": "reminder", "version": 1}
    first = lambda_handler(dict(firing), _context("send_push"))
    second = lambda_handler(dict(firing), _context("send_push"))
    assert first["sent"] == ["sms"]
    assert second["sent"] == [] and ["sms", "already sent"] in [list(x) for x in second["skipped"]]
    rows = [r for r in control.outbox(pms.practice_id) if r["kind"] == "reminder"]
    assert len(rows) == 1


def test_b5_the_channels_a_message_skips_are_recorded_together_and_a_repeat_keeps_the_first(
    new_practice, control, local_stack, aws_requests
):
    """Issue 16: push and email skipped (an SMS-only patient) are two ledger rows written in
    one transaction; a second delivery finds them and records each on its own, first
    record wins (B4, B5)."""
    import json

    from functions.send_push.handler import lambda_handler

    pms = _book_one(new_practice, control)
    firing = {"practice_id": pms.practice_id, "appointment_id": "a1", "kind": "reminder", "version": 1}

    def skipped_rows() -> dict[str, tuple[str, str, list]]:
        rows = pms.get("appointments/a1").json()["messages"]
        return {
            r["channel"]: (r["status"], r["reason"], r["history"])
            for r in rows
            if r["kind"] == "reminder" and r["channel"] in ("push", "email")
        }

    aws_requests.clear()
    assert lambda_handler(dict(firing), _context("send_push"))["sent"] == ["sms"]
    together = [
        [next(iter(action)) for action in params["TransactItems"]]
        for op, params in aws_requests
        if op == "TransactWriteItems" and "#reminder#" in json.dumps(params) and '#push"' in json.dumps(params)
    ]
    assert together == [["Put", "Put"]]
    first = skipped_rows()
    assert set(first) == {"push", "email"} and {status for status, _, _ in first.values()} == {"skipped"}
    assert all(reason and len(history) == 1 for _, reason, history in first.values())
    control.advance(60)
    assert lambda_handler(dict(firing), _context("send_push"))["sent"] == []
    assert skipped_rows() == first


def test_b4_a_stream_batch_delivered_twice_plans_once(new_practice, control, local_stack):
    from functions.schedule_reminder.handler import lambda_handler

    delivered: list[dict] = []
    runtime = local_stack.runtime
    original = runtime.invoke

    def spy(name, event):
        if name == "schedule_reminder":
            delivered.append(event)
        return original(name, event)

    runtime.invoke = spy
    try:
        pms = _book_one(new_practice, control)
    finally:
        runtime.invoke = original
    mine = [
        r
        for batch in delivered
        for r in batch.get("Records", [])
        if r["dynamodb"]["Keys"]["pk"]["S"] == f"PRACTICE#{pms.practice_id}"
        and r["dynamodb"]["Keys"]["sk"]["S"].startswith("APPT#")
    ]
    assert len(mine) == 1
    pending = control.schedules(pms.practice_id)
    # The reminder, and the moment the booking has settled (its confirmation, B9).
    assert [name.split(".")[2] for name in pending] == ["reminder", "settle"]
    result = lambda_handler({"Records": mine}, _context("schedule_reminder"))  # again
    assert result == {"batchItemFailures": []}
    control.advance(0)
    assert control.schedules(pms.practice_id) == pending
    control.advance(60)
    assert control.schedules(pms.practice_id) == pending[:1]
    assert len([r for r in control.outbox(pms.practice_id) if r["kind"] == "confirmation"]) == 1


def test_c7_quota_never_exceeded_under_race(local_stack):
    from notify.dal.quota import consume_sms, sms_used

    practice, month, quota = "race-practice", "2026-03", 10
    results: list[int | None] = []
    lock = threading.Lock()
    barrier = threading.Barrier(30)

    def sender() -> None:
        barrier.wait()
        outcome = consume_sms(practice, month, quota)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=sender) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted = sorted(r for r in results if r is not None)
    assert granted == list(range(1, quota + 1))
    assert sms_used(practice, month) == quota


def test_c7_multi_part_sms_counts_every_part(local_stack):
    from notify.dal.quota import consume_sms

    assert consume_sms("parts-practice", "2026-03", 5, parts=3) == 3
    assert consume_sms("parts-practice", "2026-03", 5, parts=3) is None
    assert consume_sms("parts-practice", "2026-03", 5, parts=2) == 5


def test_t1_an_sms_recorded_after_a_newer_one_to_that_number_leaves_the_newer_thread(local_stack, control):
    """Issue 16: the thread is written with the sent row, in one transaction, unless a
    newer SMS to that number is the thread already: then the row is recorded without it
    (the latest wins, as before), and a missing row still fails."""
    import uuid
    from datetime import timedelta

    import pytest
    from pynamodb.exceptions import TransactWriteError

    from notify.dal import conversations, ledger
    from notify.domain.model import Channel, DeliveryStatus, MessageKind

    now, practice = control.now(), f"p-{uuid.uuid4().hex[:8]}"
    ours, theirs = "+48732000001", f"+48601{uuid.uuid4().int % 10**6:06d}"
    older = ledger.MessageRef(practice, "a1", "pat", "a1.reminder.v1", MessageKind.REMINDER)
    assert ledger.claim(older, Channel.SMS, now)
    newer, condition = conversations.thread_write(ours, theirs, practice, "pat", ["a2"], "a2.reminder.v1", now)
    newer.save(condition=condition)

    def thread_of(ref, at):
        return conversations.thread_write(ours, theirs, practice, "pat", [ref.appointment_id], ref.message_id, at)

    ledger.transition(
        older,
        Channel.SMS,
        DeliveryStatus.SENT,
        now - timedelta(seconds=5),
        latest=thread_of(older, now - timedelta(seconds=5)),
    )
    assert ledger.get_entry(older, Channel.SMS).status == DeliveryStatus.SENT.value
    assert conversations.find_thread(ours, theirs, now).message_id == "a2.reminder.v1"
    later = now + timedelta(seconds=5)
    ledger.transition(older, Channel.SMS, DeliveryStatus.SENT, later, latest=thread_of(older, later))
    assert conversations.find_thread(ours, theirs, later).message_id == "a1.reminder.v1"
    missing = ledger.MessageRef(practice, "a3", "pat", "a3.reminder.v1", MessageKind.REMINDER)
    with pytest.raises(TransactWriteError):
        ledger.transition(missing, Channel.SMS, DeliveryStatus.SENT, later, latest=thread_of(missing, later))


def test_f2_ten_takers_of_one_slot_at_once_exactly_one_wins(new_practice, control, local_stack):
    """F2 at the data layer, in threads: ten patients' accepts have each read the slot open
    and their own appointment before any writes; the slot's conditional write lets exactly
    one move in. (The local API hands patient_links one request at a time, as one Lambda
    environment: this is where the accepts' race is run.)"""
    from dataclasses import replace

    from notify.dal import appointments, slots
    from notify.domain.model import FreedSlot, SlotStatus

    pms = new_practice()
    later = control.now() + timedelta(days=9)
    for i in range(10):
        pms.send("patient.upserted", {"patient_id": f"p{i}", "phone": "601 234 567"})
        start = later + timedelta(hours=i)
        pms.send(
            "appointment.created",
            {
                "appointment_id": f"c{i}",
                "patient_id": f"p{i}",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat(),
            },
        )
    freed = control.now() + timedelta(days=4)
    slot = FreedSlot(pms.practice_id, "freed.v1", "default", freed, freed + timedelta(minutes=30))
    assert slots.open_slot(slot, [f"c{i}" for i in range(10)], control.now())
    barrier = threading.Barrier(10)
    won: list[tuple[str, bool]] = []

    def take(appointment_id: str) -> None:
        current, revision = appointments.get_appointment(pms.practice_id, appointment_id)
        moved = replace(current, start=slot.start, end=slot.end)
        barrier.wait()  # every taker has read before anyone writes
        won.append((appointment_id, slots.take_slot(slot, moved, revision, [])))

    threads = [threading.Thread(target=take, args=(f"c{i}",)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [a for a, took in won if took]
    assert len(won) == 10 and len(winners) == 1, won
    taken = slots.get_slot(pms.practice_id, "freed.v1")
    assert taken is not None and taken[0].status is SlotStatus.TAKEN
    assert taken[0].winner_appointment_id == winners[0]
    starts = [appointments.get_appointment(pms.practice_id, f"c{i}")[0].start for i in range(10)]
    assert starts.count(slot.start) == 1


def test_b9_c3_a_patient_update_read_before_an_attended_visit_does_not_write_over_it(
    new_practice, control, local_stack, monkeypatch
):
    """A PMS update of the patient reads their item; before it writes, the visit's
    attended platform booking (C3) and a bounce of their address (C5) are recorded. The
    update's write then reads again instead of writing over them: it keeps the service's
    fields and applies its own."""
    from notify.dal import practices as practice_store

    pms = _book_one(new_practice, control)
    first = {"patient_id": "pat", "phone": "601 234 567", "email": "jan@example.com"}
    assert pms.send("patient.upserted", first).status_code == 202
    real, raced = practice_store.service_owned, []

    def read_then_race(item):
        as_read = real(item)
        if not raced:  # only between the first read and its write
            raced.append(as_read)
            patient, actions = practice_store.attended_platform_booking(pms.practice_id, "pat")
            patient.update(actions=actions)
            assert practice_store.mark_email_bounced(pms.practice_id, "pat", "jan@example.com")
        return as_read

    monkeypatch.setattr(practice_store, "service_owned", read_then_race)
    update = {"patient_id": "pat", "phone": "601 234 567", "email": "jan@example.com", "name": "Jan Nowak"}
    response = pms.send("patient.upserted", update)
    assert response.status_code == 202, response.text
    assert raced == [{"attended_platform_booking": False, "email_bounced": False, "push_endpoint": ""}]
    stored = practice_store.find_patient(pms.practice_id, "pat")
    assert stored is not None and stored.name == "Jan Nowak"
    assert stored.attended_platform_booking and stored.email_bounced


def test_c3_p1_a_push_endpoint_is_kept_only_for_the_device_it_was_made_for(new_practice, control, local_stack):
    """send_push registers a device it read and keeps the endpoint on the patient. When the
    PMS changed the device meanwhile, or the patient was erased (P1), nothing is written:
    no endpoint of an old device on the new one, no item brought back for an erased
    patient."""
    from notify.dal import practices as practice_store

    pms = _book_one(new_practice, control)
    device = {"has_app": True, "push_enabled": True, "platform": "android", "phone": "601 234 567"}
    assert pms.send("patient.upserted", {"patient_id": "pat", **device, "device_token": "new-device-1"}).ok
    endpoint = "arn:aws:sns:eu-central-1:123456789012:endpoint/GCM/notify/1"
    assert not practice_store.set_push_endpoint(pms.practice_id, "pat", "old-device-1", endpoint)
    assert not practice_store.set_push_endpoint(pms.practice_id, "nobody", "new-device-1", endpoint)
    assert practice_store.find_patient(pms.practice_id, "nobody") is None
    assert practice_store.set_push_endpoint(pms.practice_id, "pat", "new-device-1", endpoint)
    stored = practice_store.find_patient(pms.practice_id, "pat")
    assert stored is not None and stored.push_endpoint == endpoint

"""The practice webhook contract: signed, validated, never a 5xx, never a partial write."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest

from notify.services.practice_keys import new_secret

NOT_THE_SECRET = new_secret()


def test_webhook_wrong_secret_is_401_and_writes_nothing(scenario, control):
    s = scenario()
    response = s.pms.send("patient.upserted", {"patient_id": "pat"}, secret=NOT_THE_SECRET)
    assert response.status_code == 401
    start = control.now() + timedelta(days=5)
    response = s.pms.send(
        "appointment.created",
        {
            "appointment_id": "a1",
            "patient_id": "pat",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
        secret=NOT_THE_SECRET,
    )
    assert response.status_code == 401
    assert s.messages() == []


def test_webhook_replayed_with_a_stale_timestamp_is_401(scenario, control):
    s = scenario()
    stale = int(control.now().timestamp()) - 600
    response = s.pms.send("patient.upserted", {"patient_id": "pat"}, timestamp=stale)
    assert response.status_code == 401


def test_webhook_unsigned_garbage_is_401_not_422(scenario):
    s = scenario()
    response = s.pms.http.post(f"{s.pms.base}/practices/{s.pms.practice_id}/events", data=b"{not json", timeout=30)
    assert response.status_code == 401


def test_webhook_one_practice_secret_cannot_write_to_another(scenario, control):
    mine, theirs = scenario(), scenario()
    # A request properly signed with my key, sent to the other practice's path.
    from local.client import standard_webhook_headers

    body = (
        b'{"event_id": "e1", "type": "patient.upserted", "occurred_at": "2026-03-02T07:00:00Z", '
        b'"data": {"patient_id": "pat"}}'
    )
    response = mine.pms.http.post(
        f"{mine.pms.base}/practices/{theirs.pms.practice_id}/events",
        data=body,
        headers={
            "Content-Type": "application/json",
            **standard_webhook_headers(mine.pms.secret, "msg_e1", control.now(), body),
        },
        timeout=30,
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "data, field",
    [
        ({"appointment_id": "a1", "patient_id": "pat", "start": "tomorrow", "end": "x"}, "start"),
        (
            {
                "appointment_id": "a1",
                "patient_id": "pat",
                "start": "2026-06-01T10:00:00",
                "end": "2026-06-01T11:00:00",
            },
            "start",
        ),  # naive: no time zone
        (
            {
                "appointment_id": "a 1",
                "patient_id": "pat",
                "start": "2026-06-01T10:00:00Z",
                "end": "2026-06-01T11:00:00Z",
            },
            "appointment_id",
        ),
        ({"patient_id": "pat", "start": "2026-06-01T10:00:00Z", "end": "2026-06-01T11:00:00Z"}, "appointment_id"),
        (
            {
                "appointment_id": "a1",
                "patient_id": "pat",
                "start": "2026-06-01T10:00:00Z",
                "end": "2026-06-01T09:00:00Z",
            },
            "end must be after start",
        ),
    ],
)
def test_webhook_invalid_payload_is_422_naming_the_field(scenario, data, field):
    s = scenario()
    response = s.pms.send("appointment.created", data)
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json())
    assert s.messages() == []


def test_webhook_unknown_event_type_is_422(scenario):
    s = scenario()
    response = s.pms.send("appointment.teleported", {"appointment_id": "a1"})
    assert response.status_code == 422
    assert "type" in response.text


def test_b9_a_change_to_an_appointment_not_created_yet_is_held_for_it(scenario, control):
    s = scenario()
    start = control.now() + timedelta(days=3)
    response = s.pms.send(
        "appointment.rescheduled",
        {"appointment_id": "not-yet", "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
    )
    assert response.status_code == 202 and response.json()["status"] == "held"
    assert s.pms.get("appointments/not-yet").status_code == 404


def test_webhook_creating_an_existing_appointment_is_409(scenario, control):
    s = scenario()
    s.patient("pat")
    start = control.now() + timedelta(days=3)
    s.book("a1", "pat", start)
    response = s.pms.send(
        "appointment.created",
        {
            "appointment_id": "a1",
            "patient_id": "pat",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 409
    assert len(s.messages("a1", kind="confirmation")) == 1


def _resend(pms, prepared, **changes):
    """The same signature headers on a request changed in `changes` (url, method, body)."""
    copy = prepared.copy()
    for name, value in changes.items():
        setattr(copy, name, value)
    if "body" in changes:
        copy.headers["Content-Length"] = str(len(changes["body"]))
    return pms.http.send(copy, timeout=60)


def test_p4_a_signature_for_one_request_is_worth_nothing_for_any_other(scenario, control):
    from local.client import sign_request

    s = scenario()
    other = scenario()
    pms = s.pms
    read = pms.prepare("GET", "usage", params={"month": "2026-03"})
    sign_request(read, pms.credentials.key_id, pms.secret, control.now())
    assert pms.http.send(read.copy(), timeout=60).status_code == 200
    base = read.url.split("?")[0]
    replays = {
        "another path": _resend(pms, read, url=base.replace("/usage", "/notices") + "?month=2026-03"),
        "another query value": _resend(pms, read, url=base + "?month=2026-04"),
        "an extra query parameter": _resend(pms, read, url=read.url + "&day=2026-03-02"),
        "another method": _resend(pms, read, method="DELETE"),
        "another practice": _resend(pms, read, url=read.url.replace(pms.practice_id, other.pms.practice_id)),
    }
    put = pms.prepare("PUT", "blocked-numbers/+48601234562", {"blocked_recalls": True})
    sign_request(put, pms.credentials.key_id, pms.secret, control.now())
    replays["another body"] = _resend(pms, put, body=b'{"blocked_recalls": false}')
    replays["another number"] = _resend(pms, put, url=put.url.replace("601234562", "601234563"))
    assert pms.http.send(put.copy(), timeout=60).status_code == 200
    replays["the same write again"] = pms.http.send(put.copy(), timeout=60)
    stale = pms.prepare("GET", "notices")
    sign_request(stale, pms.credentials.key_id, pms.secret, control.now() - timedelta(minutes=10))
    replays["an old signature"] = pms.http.send(stale, timeout=60)
    statuses = {what: r.status_code for what, r in replays.items()}
    print(f"\nP4 replays: {statuses}")
    # DELETE has no route on /usage: API Gateway refuses before any code runs (the unit
    # test proves the signature binds the method where both exist).
    assert statuses == {**dict.fromkeys(replays, 401), "another method": 403}
    numbers = pms.get("blocked-numbers").json()["numbers"]
    assert [(n["number"], n["blocked_recalls"]) for n in numbers] == [("+48601234562", True)]


def test_c8_practice_configured_sets_every_setting_per_practice_and_calendar(scenario, control):
    s = scenario()
    configured = s.pms.send(
        "practice.configured",
        {
            "settings": {"name": "Harbour Dental", "timezone": "Europe/Warsaw", "country": "PL", "locale": "pl"},
            "calendars": {"room-2": {"reminder_policy": "fixed", "fixed_offset_hours": 3}},
        },
    )
    assert configured.status_code == 202, configured.text
    read = s.pms.get("settings").json()
    assert read["settings"]["locale"] == "pl" and read["settings"]["retention_days"] == 90
    assert read["calendars"] == {"room-2": {"reminder_policy": "fixed", "fixed_offset_hours": 3}}
    # The calendar's own reminder policy applies to its appointments (C8).
    s.patient("pat")
    start = s.local(5)
    s.book("a1", "pat", start, calendar_id="room-2")
    control.advance_to(start - timedelta(hours=2))
    (reminder,) = s.messages("a1", kind="reminder")
    assert s.due(reminder) == start - timedelta(hours=3)


def test_p6_practice_configured_refuses_bad_settings_naming_the_field(scenario):
    s = scenario()
    for settings, field in (
        ({"timezone": "Mars/Olympus"}, "data.settings.timezone"),
        ({"booking_url": "http://169.254.169.254/"}, "data.settings.booking_url"),
        (
            {"templates": {"en/reminder.j2": "{% block sms %}{{ x.__class__ }}{% endblock %}"}},
            "data.settings.templates.en/reminder.j2",
        ),
        ({"colour": "blue"}, "data.settings.colour"),
    ):
        response = s.pms.send("practice.configured", {"settings": settings})
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["field"] == field
    assert s.pms.get("settings").json()["settings"]["name"] == "Harbour Dental"  # unchanged


def test_contract_unknown_fields_are_ignored_and_unknown_types_named(scenario):
    s = scenario()
    newer_pms = s.pms.send("patient.upserted", {"patient_id": "pat", "phone": "601 234 567", "shoe_size": 44})
    assert newer_pms.status_code == 202 and newer_pms.json()["status"] == "applied"
    unknown = s.pms.send("appointment.teleported", {"appointment_id": "a1"})
    assert unknown.status_code == 422
    assert unknown.json()["fields"][0]["field"] == "type"
    assert "appointment.created" in unknown.json()["fields"][0]["message"]


def test_b9_a_creation_with_nothing_held_does_not_read_held_changes(scenario, control, aws_requests):
    """Issue 16: creating writes as if nothing were held (the transaction checks it), so
    the common path makes no read of held changes; held ones are still folded in."""

    def held_reads() -> list[str]:
        reads = [json.dumps(p) for op, p in aws_requests if op in ("GetItem", "BatchGetItem")]
        assert reads
        return [r for r in reads if '"HELD#' in r]

    s = scenario()
    s.patient("pat")
    start = control.now() + timedelta(days=3)
    s.book("a1", "pat", start)
    assert held_reads() == []
    moved = start + timedelta(hours=2)
    s.pms.send(
        "appointment.rescheduled",
        {"appointment_id": "a2", "start": moved.isoformat(), "end": (moved + timedelta(hours=1)).isoformat()},
    )
    s.book("a2", "pat", start)
    assert held_reads()  # refused once, then read and folded in
    assert s.pms.get("appointments/a2").json()["appointment"]["start"] == moved.isoformat()


def test_b9_what_an_event_reads_comes_with_the_practices_keys_in_one_request(scenario, control, aws_requests):
    """Issue 16: the items applying an event reads (the appointment a change changes, a
    patient and whether they were erased) come in the request's first read, with the
    practice's keys and profile, named from the body's ids before it is verified; an id
    that is not one is not read (the body is refused once verified)."""
    s = scenario()
    s.patient("pat")
    s.book("a1", "pat", control.now() + timedelta(days=3))
    for event_type, data, wanted, status in (
        ("appointment.cancelled", {"appointment_id": "a1"}, ['"APPT#a1"'], 202),
        ("patient.upserted", {"patient_id": "pat", "name": "P"}, ['"PATIENT#pat"', '"ERASED#'], 202),
        ("appointment.cancelled", {"appointment_id": "a/1"}, [], 422),
    ):
        aws_requests.clear()
        assert s.pms.send(event_type, data).status_code == status
        until_written = list(itertools.takewhile(lambda r: not r[0].startswith(("Transact", "Put")), aws_requests))
        reads = [(op, json.dumps(p)) for op, p in until_written if op.endswith("GetItem")]
        assert [op for op, _ in reads] == ["BatchGetItem"]
        asked = reads[0][1]
        assert all(w in asked for w in ['"SECRETS#', '"PROFILE"', *wanted])
        assert asked.count('"pk"') == 2 + len(wanted)

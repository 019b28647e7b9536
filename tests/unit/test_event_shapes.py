"""The AWS event shapes of tests/events/, read the way the functions read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.data_classes import SNSEvent
from pydantic import ValidationError

from notify.contracts import QueuedSms, SendRequest
from notify.request_paths import canonical_path, normalise, public_prefix
from notify.services.stream_records import Closure, appointment_images, closure, erasure_requested, expired
from tests.events import load, names


def _record(name: str) -> dict:
    (record,) = load(name)["Records"]
    return record


def test_events_every_shared_event_is_json_and_loads_as_a_fresh_copy():
    assert len(names()) >= 7
    first = load("scheduler_send_reminder")
    first["kind"] = "changed"
    assert load("scheduler_send_reminder")["kind"] == "reminder"


def test_p2_a_ttl_deletion_is_recognised_and_plans_nothing():
    record = _record("dynamodb_stream_ttl_remove")
    assert expired(record)
    assert appointment_images(record) is None
    record.pop("userIdentity")  # the same REMOVE by our own code (P1 erasure)
    assert not expired(record)
    old, new = appointment_images(record)
    assert old is not None and old.appointment_id == "a1" and new is None


def test_b8_an_appointment_insert_reads_as_a_new_appointment():
    old, new = appointment_images(_record("dynamodb_stream_appointment_insert"))
    assert old is None and new is not None
    assert (new.practice_id, new.appointment_id, new.patient_id) == ("harbour", "a1", "pat")
    assert new.start.isoformat() == "2026-03-07T11:00:00+00:00"


def test_p1_an_erasure_request_record_starts_its_first_pass():
    assert erasure_requested(_record("dynamodb_stream_erasure_insert")) == (
        "harbour",
        "5f0c7a1e9b2d4c6e8a0b1c2d3e4f5a6b",
    )
    assert erasure_requested(_record("dynamodb_stream_appointment_insert")) is None


def test_stage_paths_route_on_the_resource_and_link_under_the_callers_prefix():
    practice = load("api_gateway_practice_event")
    assert canonical_path(practice) == "/practices/harbour/events"
    assert public_prefix(practice) == "/v1"
    link = load("api_gateway_link_custom_domain")
    assert normalise(link)["path"] == "/l/AbCdEfGhIjKlMnOp"
    assert public_prefix(link) == "/notify"


def test_b4_a_scheduler_firing_parses_as_the_one_send_shape():
    request = SendRequest.model_validate(load("scheduler_send_reminder"))
    assert (request.appointment_id, request.kind.value, request.scheduled) == ("a1", "reminder", True)


def test_c5_an_ses_bounce_arrives_inside_an_sns_notification():
    (record,) = SNSEvent(load("sns_ses_permanent_bounce")).records
    message = json.loads(record.sns.message)
    assert message["eventType"] == "Bounce" and message["bounce"]["bounceType"] == "Permanent"
    assert message["mail"]["tags"]["patient_id"] == ["pat"]


def test_r11_a_queued_group_sms_carries_one_version_per_appointment_or_none():
    request = {"practice_id": "p", "appointment_id": "a1", "kind": "reminder", "version": 2}
    base = {"request": request, "patient_id": "mum", "parts": 1, "month": "2026-03", "country": "PL"}
    base["leaves_at"] = "2026-03-05T08:00:00Z"
    queued = QueuedSms.model_validate({**base, "subject_ids": ["a1", "a2"], "subject_versions": [2, 1]})
    assert queued.versions() == {"a1": 2, "a2": 1}
    assert QueuedSms.model_validate_json(queued.body()) == queued
    # Queued before versions were kept: none known, each appointment is checked as it is.
    assert QueuedSms.model_validate({**base, "subject_ids": ["a1", "a2"]}).versions() == {}
    with pytest.raises(ValidationError, match="subject_versions"):
        QueuedSms.model_validate({**base, "subject_ids": ["a1", "a2"], "subject_versions": [2]})
    # ...and each appointment's patient (read with the rest when it leaves), or none.
    both = QueuedSms.model_validate({**base, "subject_ids": ["a1", "a2"], "subject_patients": ["mum", "kid"]})
    assert QueuedSms.model_validate_json(both.body()).subject_patients == ["mum", "kid"]
    with pytest.raises(ValidationError, match="subject_patients"):
        QueuedSms.model_validate({**base, "subject_ids": ["a1", "a2"], "subject_patients": ["mum"]})


def _profile_record(old: dict | None, new: dict) -> dict:
    def image(fields: dict) -> dict:
        return {"pk": {"S": "PRACTICE#p1"}, "sk": {"S": "PROFILE"}, "practice_id": {"S": "p1"}, **fields}

    stream = {"Keys": {"pk": {"S": "PRACTICE#p1"}, "sk": {"S": "PROFILE"}}, "NewImage": image(new)}
    if old is not None:
        stream["OldImage"] = image(old)
    return {"eventName": "MODIFY" if old is not None else "INSERT", "dynamodb": stream}


def test_d19_only_the_record_that_closes_a_practice_starts_its_erasure():
    closed = {"closed_at": {"S": "2026-03-02T07:00:00.000000+0000"}}
    counted = {**closed, "removed": {"N": "12"}}
    erased = {**counted, "erased_at": {"S": "2026-03-02T07:20:00.000000+0000"}}
    assert closure(_profile_record({}, {})) == Closure(False)
    started = closure(_profile_record({}, closed))
    assert started.closed and started.closed_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert closure(_profile_record(closed, counted)) == Closure(True)  # a run's count
    assert closure(_profile_record(counted, erased)) == Closure(True)  # the record of the leaving
    assert closure(_profile_record(None, erased)) == Closure(True)

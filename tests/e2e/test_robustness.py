"""Surviving AWS's delivery semantics and hostile callers (B4, security), on the local
stack over HTTP: every delivery made twice, fuzzed webhook and link routes, and no
contact data in any log line."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.client import standard_webhook_headers

from .conftest import APP_PATIENT, own_mobile

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
B4_ROUNDS = int(os.environ.get("B4_ROUNDS", "1"))  # `make soak` runs more


@pytest.mark.parametrize("round_", range(B4_ROUNDS))
def test_b4_every_delivery_made_twice_sends_each_message_once_and_counts_once(scenario, control, browser, round_):
    s = scenario(recalls_enabled=True, sms_quota=200)
    for patient in ("app", "sms", "freed", "c0", "c1", "rec"):
        s.patient(patient, **(APP_PATIENT if patient == "app" else {}))
    texter = own_mobile()  # T1: answers by text, from a number of its own
    s.patient("txt", phone=texter)
    t = {
        "slot": s.local(4),
        "a-app": s.local(5, 10),
        "a-sms": s.local(5, 14),
        "c0": s.local(7),
        "c1": s.local(8),
        "cancel": s.local(1, 12),
        "end": s.local(6),
    }
    injected_before = control.duplicate_deliveries(True)["stats"]["duplicates_injected"]
    try:
        s.book("a-app", "app", t["a-app"], source="app")
        s.book("a-sms", "sms", t["a-sms"])
        s.book("a-txt", "txt", t["a-sms"] + timedelta(hours=1))
        control.text(f"+48{texter}", "1")  # delivered twice by SNS to the function: acts once
        s.book("slot", "freed", t["slot"])
        s.book("c0", "c0", t["c0"])
        s.book("c1", "c1", t["c1"])
        s.pms.send(
            "recall.due", {"patient_id": "rec", "recall_type": "checkup", "due_at": control.now().isoformat()}
        )
        control.advance_to(t["cancel"])
        s.change("appointment.cancelled", {"appointment_id": "slot"})
        offers = {r["appointment_id"]: r["link"] for r in s.messages(kind="slot_offer")}
        assert set(offers) == {"c0", "c1"}
        assert browser.http.post(offers["c0"], timeout=60).status_code == 200
        assert browser.http.post(offers["c1"], timeout=60).status_code == 409
        sms_link = s.link("a-sms")
        control.advance_to(t["end"] - timedelta(days=2))
        assert browser.follow(sms_link, "confirm").status_code == 200
        assert browser.post(browser.token_in(sms_link), "confirm").status_code == 200  # again
        control.advance_to(t["end"])
        injected = control.duplicate_deliveries(False)["stats"]["duplicates_injected"]
    finally:
        control.duplicate_deliveries(False)
    assert injected - injected_before > 20

    rows = s.messages()
    keys = [(r["message_id"], r["channel"]) for r in rows]
    print(
        f"B4 drill: {injected - injected_before} duplicate deliveries injected, "
        f"{len(keys)} messages sent, {len(keys) - len(set(keys))} sent twice"
    )
    assert len(keys) == len(set(keys)), "a message went out twice"
    assert all(r["delivered_to_provider"] for r in rows)
    kinds = {(r["appointment_id"], r["kind"], r["channel"]) for r in rows}
    assert {
        ("a-app", "reminder", "push"),
        ("a-app", "reminder", "sms"),
        ("c0", "slot_offer", "sms"),
        ("c1", "slot_offer", "sms"),
        ("recall.rec.checkup", "recall", "sms"),
        ("c0", "reschedule", "sms"),
        ("a-txt", "reply", "sms"),
    } <= kinds
    assert len([r for r in rows if r["kind"] == "reply"]) == 1
    assert s.pms.get("appointments/a-txt").json()["appointment"]["status"] == "confirmed"
    sms_parts = sum(r["segments"] for r in rows if r["channel"] == "sms")
    assert s.sms_used(rows) == sms_parts
    totals = s.pms.get("statistics", **{"from": "2000-01-01", "to": "2100-01-01"}).json()["totals"]
    assert (
        totals["offers_sent"],
        totals["offers_claimed"],
        totals["confirmations"],
        totals["recalls_sent_sms"],
        totals["sms_parts"],
    ) == (2, 1, 2, 1, sms_parts)  # confirmations: one from the link page, one by text
    notices = [n["type"] for n in s.pms.get("notices").json()["notices"]]
    assert notices.count("appointment.moved") == 1
    assert notices.count("appointment.confirmed") == 2  # the link page's and the text's
    # A1: every outcome counted once, however often its step was delivered.
    outcome = s.pms.get("outcomes", **{"from": "2000-01-01", "to": "2100-01-01"}).json()["totals"]
    appointment_parts = sum(
        r["segments"] for r in rows if r["channel"] == "sms" and r["kind"] not in ("reply", "recall")
    )
    reminders = {r["message_id"] for r in rows if r["kind"] == "reminder"}
    assert (
        outcome["booked"],
        outcome["confirmed_link"],
        outcome["confirmed_sms"],
        outcome["slots_offered"],
        outcome["slots_filled"],
        outcome["reminders"],
        outcome["sms_parts"],
    ) == (6, 1, 1, 1, 1, len(reminders), appointment_parts)
    print(f"B4 drill outcomes: {json.dumps({k: v for k, v in outcome.items() if v})}")


def test_security_no_phone_email_or_name_in_any_log_line(scenario, control, browser, local_stack):
    s = scenario(uses_email=True)
    s.patient(
        "secret", name="Zbigniew Quxworth", phone="+48 609 111 222", email="zq.private@example.org", **APP_PATIENT
    )
    s.patient("other", name="Honorata Flibbert", phone="609 333 444")
    s.book("a1", "secret", s.local(4), source="app")
    s.book("a2", "other", s.local(4, 15))
    bad = s.pms.send("patient.upserted", {"patient_id": "x", "phone": "+48 609 555 666", "email": "x" * 300})
    assert bad.status_code == 422
    s.tap("a2", "confirm")
    control.advance_to(s.local(3, 16))
    log = local_stack.log_file.read_text()
    assert "message sent" in log  # the log is there and it is the handlers' log
    for secret in (
        "Quxworth",
        "Zbigniew",
        "Flibbert",
        "Honorata",
        "609111222",
        "609 111 222",
        "609333444",
        "609555666",
        "zq.private",
        "example.org",
    ):
        assert secret not in log, secret


_EVENT_TYPES = [
    "appointment.created",
    "appointment.rescheduled",
    "appointment.cancelled",
    "appointment.attended",
    "appointment.notifications",
    "patient.upserted",
    "recall.due",
    "practice.configured",
    "",
    "appointment.created\x00",
]
_FIELDS = [
    "appointment_id",
    "patient_id",
    "start",
    "end",
    "calendar_id",
    "appointment_type",
    "source",
    "actor",
    "phone",
    "email",
    "name",
    "locale",
    "due_at",
    "recall_type",
    "recall_token",
    "category",
    "enabled",
    "internal_reason",
    "platform",
]
_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: f if f == f else 0.0),
    st.text(max_size=80),
    st.text(alphabet=st.characters(min_codepoint=0x80), max_size=300),
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "2026-03-29T02:30",
            "2026-02-30T10:00:00Z",
            "a1",
            "p1",
            "+48601234567",
            "x@example.com",
            "app",
            "practice",
            "result",
            "1e400",
            "../../etc/passwd",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
_events = st.fixed_dictionaries(
    {
        "event_id": _junk,
        "type": st.sampled_from(_EVENT_TYPES),
        "occurred_at": _junk,
        "data": st.one_of(_junk, st.dictionaries(st.sampled_from(_FIELDS), _junk, max_size=8)),
    },
    optional={"extra": _junk},
)
_bodies = st.one_of(
    _events.map(lambda e: json.dumps(e).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.just(b"[" * 5000),
    st.just(b'{"a":' * 2000 + b"1" + b"}" * 2000),
    st.just(json.dumps({"x": "y" * 70000}).encode()),
)
_content_types = st.sampled_from(
    ["application/json", "text/plain", "application/xml", "", "application/json; charset=latin-1"]
)


def _check_error(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert body.get("error"), body
        if response.status_code in (404, 409, 413, 422):
            assert body.get("fields") and all(f.get("field") for f in body["fields"]), body


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=_bodies, content_type=_content_types, signed=st.booleans())
def test_security_fuzzed_webhook_never_5xx_and_every_4xx_names_the_problem(
    new_practice, body, content_type, signed
):
    pms = _fuzz_practice(new_practice)
    try:
        body.decode()
    except UnicodeDecodeError:
        signed = False  # Standard Webhooks signs text; such a body is refused unsigned
    headers = {"Content-Type": content_type}
    if signed:
        headers.update(standard_webhook_headers(pms.secret, "msg_fuzz", pms.control.now(), body))
    else:
        headers.update({"webhook-id": "msg_fuzz", "webhook-timestamp": "0", "webhook-signature": "v1,AAAA"})
    response = pms.http.post(
        f"{pms.base}/practices/{pms.practice_id}/events", data=body, headers=headers, timeout=60
    )
    _check_error(response)
    if not signed:
        assert response.status_code in (401, 413)


_fuzz_cache: dict[str, object] = {}


def _fuzz_practice(new_practice):
    """One practice for all fuzz cases (onboarding per case would dominate the run)."""
    if "pms" not in _fuzz_cache:
        _fuzz_cache["pms"] = new_practice()
    return _fuzz_cache["pms"]


_segments = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).map(
        lambda t: re.sub(r"[/?#]", "_", t)
    ),
    st.sampled_from(
        [
            "confirm",
            "cancel",
            "offer",
            "receipt",
            "device",
            "reschedule",
            "change-time",
            "AAAAAAAAAAAAAAAA",
            "%00",
            "..",
        ]
    ),
)


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    prefix=st.sampled_from(
        ["v1/l", "v1/r", "v1/practices", "notify/l", "notify/r", "l", "_local/nothing", "v1/l/x" * 3]
    ),
    parts=st.lists(_segments, max_size=4),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    body=st.one_of(st.just(b""), _bodies),
)
def test_security_fuzzed_patient_and_practice_routes_never_5xx(local_stack, browser, prefix, parts, method, body):
    from urllib.parse import quote

    path = "/".join([prefix, *(quote(p, safe="") for p in parts)])
    response = browser.http.request(
        method, f"{local_stack.url}/{path}", data=body, timeout=60, allow_redirects=False
    )
    assert response.status_code < 500, (method, path, response.status_code, response.text[:300])


def test_security_link_routes_refuse_bodies_the_resolver_cannot_parse(browser):
    """Found by the route fuzzer: a body that is not UTF-8 crashed the link function (502)."""
    token = "A" * 16
    for path in ("receipt", "cancel", "confirm", "change-time"):
        for body, field_message in (
            (b"\x80", "not UTF-8 text"),
            (b"[" * 5000, "nested too deeply"),
            (b"x" * 70_000, "max 65536 bytes"),
        ):
            response = browser.http.post(
                f"{browser.base}/l/{token}/{path}",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            assert response.status_code in (400, 413), (path, response.status_code)
            assert response.json()["fields"] == [{"field": "body", "message": field_message}]

"""P4: every practice request is signed over what it does, with published standards a
practice can use from a library; P3: link tokens derived, stored as digests. No AWS here:
the practice side signs with the reference libraries (standardwebhooks,
http-message-signatures), our side verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from local.client import sign_request, standard_webhook_headers
from notify.domain.patient_link import link_url, token_digest, token_from_mac
from notify.services.errors import NotAuthenticatedError
from notify.services.practice_keys import new_secret, secret_bytes
from notify.services.request_signatures import (
    SignedRequest,
    signature_digest,
    verify_api_request,
    verify_event_post,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = new_secret()
KEYS = {"key_a": secret_bytes(SECRET)}
BODY = b'{"event_id": "e1", "type": "patient.upserted"}'
BASE = "https://abc.execute-api.eu-central-1.amazonaws.com/v1/practices/harbour"


def test_p4_a_standard_webhooks_event_post_verifies_and_names_its_key():
    headers = standard_webhook_headers(SECRET, "msg_e1", NOW, BODY)
    assert verify_event_post(KEYS, headers, BODY, NOW + timedelta(minutes=4)) == "key_a"


@pytest.mark.parametrize("change", ["body", "secret", "late", "early", "headers"])
def test_p4_an_event_post_signed_for_anything_else_is_refused(change):
    headers = standard_webhook_headers(new_secret() if change == "secret" else SECRET, "msg_e1", NOW, BODY)
    body = BODY + b" " if change == "body" else BODY
    now = {"late": NOW + timedelta(minutes=6), "early": NOW - timedelta(minutes=6)}.get(change, NOW)
    if change == "headers":
        headers.pop("webhook-id")
    with pytest.raises(NotAuthenticatedError):
        verify_event_post(KEYS, headers, body, now)


def test_p3_two_active_keys_both_verify_during_a_rotation():
    new = new_secret()
    keys = {**KEYS, "key_b": secret_bytes(new)}
    assert verify_event_post(keys, standard_webhook_headers(new, "m", NOW, BODY), BODY, NOW) == "key_b"
    assert verify_event_post(keys, standard_webhook_headers(SECRET, "m", NOW, BODY), BODY, NOW) == "key_a"


def _signed(
    method: str, path: str, body: dict | None = None, params: dict[str, str] | None = None, created: datetime = NOW
) -> requests.PreparedRequest:
    prepared = requests.Request(
        method,
        f"{BASE}/{path}",
        params=params,
        data=__import__("json").dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json"} if body else {},
    ).prepare()
    sign_request(prepared, "key_a", SECRET, created)
    return prepared


def _as_received(prepared: requests.PreparedRequest, **changes: str) -> tuple[SignedRequest, bytes]:
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    request = SignedRequest(
        changes.get("method", prepared.method or "GET"), changes.get("url", prepared.url or ""), headers
    )
    body = prepared.body if isinstance(prepared.body, bytes) else b""
    return request, changes.get("body", body).encode() if "body" in changes else body


def test_p4_an_rfc_9421_signed_request_verifies():
    request, body = _as_received(_signed("GET", "usage", params={"month": "2026-03"}))
    assert verify_api_request(KEYS, request, body, NOW) == "key_a"
    put, body = _as_received(_signed("PUT", "blocked-numbers/+48601234567", {"blocked_recalls": True}))
    assert verify_api_request(KEYS, put, body, NOW) == "key_a"


@pytest.mark.parametrize(
    "replay",
    [
        {"url": f"{BASE}/patients/p1/messages"},  # another path
        {"url": f"{BASE}/usage?month=2026-04"},  # another query
        {"url": f"{BASE}/usage?month=2026-03&extra=1"},  # an unsigned parameter added
        {"method": "DELETE"},  # another method
        {
            "url": "https://abc.execute-api.eu-central-1.amazonaws.com/v1/practices/other/usage?month=2026-03"
        },  # another practice
    ],
)
def test_p4_a_signature_for_one_request_is_refused_for_any_other(replay):
    request, body = _as_received(_signed("GET", "usage", params={"month": "2026-03"}), **replay)
    with pytest.raises(NotAuthenticatedError):
        verify_api_request(KEYS, request, body, NOW)


@pytest.mark.parametrize(
    "covered",
    [
        ("@method", '"@query-param";name="month"'),  # no path: worth as much for any route
        ("@path", '"@query-param";name="month"'),  # no method
        ("@method", "@path"),  # the query parameter left out
    ],
)
def test_p4_a_signature_that_covers_too_little_is_refused(covered):
    prepared = requests.Request("GET", f"{BASE}/usage", params={"month": "2026-03"}).prepare()
    sign_request(prepared, "key_a", SECRET, NOW, components=covered)
    request, body = _as_received(prepared)
    with pytest.raises(NotAuthenticatedError):
        verify_api_request(KEYS, request, body, NOW)


def test_p4_a_signed_put_is_refused_with_another_body_or_number():
    signed = _signed("PUT", "blocked-numbers/+48601234567", {"blocked_recalls": True})
    other_body, body = _as_received(signed, body='{"blocked_recalls": false}')
    with pytest.raises(NotAuthenticatedError):
        verify_api_request(KEYS, other_body, body, NOW)
    other_number, body = _as_received(signed, url=f"{BASE}/blocked-numbers/+48609999999")
    with pytest.raises(NotAuthenticatedError):
        verify_api_request(KEYS, other_number, body, NOW)


def test_p4_an_old_signature_is_refused_and_replays_are_recognisable():
    request, body = _as_received(_signed("GET", "notices", created=NOW - timedelta(minutes=6)))
    with pytest.raises(NotAuthenticatedError):
        verify_api_request(KEYS, request, body, NOW)
    one, _ = _as_received(_signed("POST", "recalls", {"patient_id": "p"}))
    two, _ = _as_received(_signed("POST", "recalls", {"patient_id": "p"}, created=NOW + timedelta(seconds=1)))
    assert signature_digest(one) == signature_digest(one) != signature_digest(two)


def test_p3_tokens_are_96_bits_of_a_mac_and_stored_only_as_digests():
    token = token_from_mac(bytes(range(32)))
    assert len(token) == 16 and token.replace("-", "").replace("_", "").isalnum()
    assert token_digest(token) != token and len(token_digest(token)) == 64


def test_r4_links_carry_the_action():
    assert link_url("https://n.example", "T" * 16, "confirm") == "https://n.example/l/TTTTTTTTTTTTTTTT?a=confirm"

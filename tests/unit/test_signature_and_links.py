"""Webhook signatures (Interfaces) and patient link tokens (R4)."""

import pytest

from notify.domain.patient_link import TOKEN_BYTES, link_url, new_token
from notify.domain.webhook_signature import SignatureError, sign, verify

BODY = b'{"event_id":"e1"}'


def test_signature_round_trip():
    verify("s3cret", "1000", sign("s3cret", 1000, BODY), BODY, now_epoch=1010)


@pytest.mark.parametrize(
    "secret, ts, now, body",
    [
        ("wrong", 1000, 1000, BODY),  # another practice's secret
        ("s3cret", 1000, 1000 + 301, BODY),  # replayed after the window
        ("s3cret", 1000, 1000, BODY + b" "),  # body changed
    ],
)
def test_bad_or_stale_signatures_are_rejected(secret, ts, now, body):
    with pytest.raises(SignatureError):
        verify("s3cret", str(ts), sign(secret, ts, BODY), body, now_epoch=now)


def test_missing_headers_are_rejected():
    with pytest.raises(SignatureError):
        verify("s3cret", None, None, BODY, now_epoch=0)


def test_r4_tokens_are_short_random_and_url_safe():
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) == 16 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)
    assert TOKEN_BYTES * 8 == 96


def test_r4_links_carry_the_action():
    assert link_url("https://n.example", "T" * 16, "confirm") == "https://n.example/l/TTTTTTTTTTTTTTTT?a=confirm"

"""Who is calling the practice API, and was this very request signed (P4).

- Event posts (`POST .../practices/{id}/events`) are signed with Standard Webhooks: HMAC
  over `webhook-id.webhook-timestamp.body` (headers `webhook-id`, `webhook-timestamp`,
  `webhook-signature`), which any Standard Webhooks library produces. Only that route
  accepts them; the practice in the path selects the keys.
- Every other request is signed with RFC 9421 HTTP Message Signatures (`Signature-Input`,
  `Signature`, `Content-Digest`), algorithm `hmac-sha256`, `keyid` one of the practice's
  keys, covering at least `@method`, `@path`, each query parameter (`@query-param`) and,
  for a body, `content-digest`; `created` within the replay window.

A signature is worth nothing for any other request: another path, query, method or body
fails verification, another practice's path has other keys, and a signed request that
changes something is accepted once (the guard remembers its signature for the window).
The functions here are pure: the caller passes the practice's keys (key id -> secret).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import NotAuthenticatedError

REPLAY_WINDOW = timedelta(minutes=5)
REQUIRED_COMPONENTS = ("@method", "@path")


def verify_event_post(keys: Mapping[str, bytes], headers: Mapping[str, str], body: bytes, now: datetime) -> str:
    """Standard Webhooks: returns the key id that signed; NotAuthenticatedError otherwise."""
    from standardwebhooks.webhooks import Webhook

    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    offered = lowered.get("webhook-signature", "")
    if not (message_id and stamp and offered):
        raise NotAuthenticatedError("missing Standard Webhooks headers")
    try:
        sent_at = datetime.fromtimestamp(int(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise NotAuthenticatedError("webhook-timestamp is not unix seconds") from exc
    if abs(now - sent_at) > REPLAY_WINDOW:
        raise NotAuthenticatedError("webhook-timestamp outside the replay window")
    try:
        data = body.decode()
    except UnicodeDecodeError as exc:
        raise NotAuthenticatedError("body is not UTF-8") from exc
    signatures = [part.split(",", 1)[1] for part in offered.split() if part.startswith("v1,")]
    for key_id, key in keys.items():
        expected = Webhook(key).sign(message_id, sent_at, data).split(",", 1)[1]
        if any(hmac.compare_digest(expected, s) for s in signatures):
            return key_id
    raise NotAuthenticatedError("no matching signature")


@dataclass(frozen=True)
class SignedRequest:
    """A request as RFC 9421 resolves its components: method, absolute URL, headers."""

    method: str
    url: str
    headers: Mapping[str, str]


def verify_api_request(keys: Mapping[str, bytes], request: SignedRequest, body: bytes, now: datetime) -> str:
    """RFC 9421 with hmac-sha256: returns the key id that signed; NotAuthenticatedError
    otherwise."""
    from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
    from http_message_signatures.exceptions import HTTPMessageSignaturesException

    class Keys(HTTPSignatureKeyResolver):
        def resolve_public_key(self, key_id: str) -> bytes | None:
            return keys.get(key_id)

        def resolve_private_key(self, key_id: str) -> bytes | None:
            return keys.get(key_id)

    class Verifier(HTTPMessageVerifier):
        """`created` is checked against our clock (the local stack's is virtual)."""

        def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
            created = sig_input.params.get("created")
            if type(created) is not int:
                raise NotAuthenticatedError("signature has no created time")
            if abs(now - datetime.fromtimestamp(created, tz=UTC)) > REPLAY_WINDOW:
                raise NotAuthenticatedError("signature created outside the replay window")

    query = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
    required = (*REQUIRED_COMPONENTS, *(f'"@query-param";name="{name}"' for name in query))
    try:
        (result,) = Verifier(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=Keys()).verify(
            request, max_age=None, require_components=required, body=body
        )
    except NotAuthenticatedError:
        raise
    except (HTTPMessageSignaturesException, ValueError) as exc:
        raise NotAuthenticatedError(str(exc)[:200]) from exc
    return str(result.parameters.get("keyid"))


def signature_digest(request: SignedRequest) -> str:
    """What identifies one signed request (to refuse it a second time)."""
    return hashlib.sha256(request.headers.get("signature", "").encode()).hexdigest()

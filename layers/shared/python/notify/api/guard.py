"""What every request must pass before a resolver parses anything: size, sane bodies and,
for the practice API, a signature over this very request (P4). An unsigned caller learns
nothing about the API: it gets 401 before validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ..dal import keys as dal_keys
from ..dal import read_cache
from ..dal import signatures as seen_signatures
from ..observability import logger, metrics
from ..request_guard import body_refusal, proxy_error, raw_body, too_large
from ..request_paths import canonical_path
from ..services import practice_keys
from ..services.errors import NotAuthenticatedError
from ..services.event_reads import event_reads
from ..services.request_signatures import (
    REPLAY_WINDOW,
    SignedRequest,
    signature_digest,
    verify_api_request,
    verify_event_post,
)


def signed_request(event: dict[str, Any]) -> SignedRequest:
    """The request as the practice sent it: API Gateway's real path (stage or base path
    included) on the host it was sent to, with its query."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    path = (event.get("requestContext") or {}).get("path") or event.get("path") or "/"
    query = urlencode(event.get("multiValueQueryStringParameters") or {}, doseq=True)
    url = f"https://{headers.get('host', 'localhost')}{path}" + (f"?{query}" if query else "")
    return SignedRequest(event.get("httpMethod", "GET"), url, headers)


def practice_refusal(event: dict[str, Any], now: datetime, secrets_key_arn: str) -> dict[str, Any] | None:
    body = raw_body(event)
    refusal = too_large(body)
    if refusal is not None:
        return refusal
    practice_id = (event.get("pathParameters") or {}).get("practice_id") or ""
    method = event.get("httpMethod", "GET")
    try:
        _authenticate(practice_id, event, body, now, secrets_key_arn)
    except NotAuthenticatedError as exc:
        logger.warning("request rejected", practice_id=practice_id, reason=str(exc))
        metrics.add_metric(name="RequestsRejected", unit="Count", value=1)
        return proxy_error(401, "invalid signature")
    if method in ("GET", "HEAD", "DELETE") and not body:
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return proxy_error(
            415,
            "unsupported content type",
            [{"field": "headers.content-type", "message": "send application/json"}],
        )
    return body_refusal(body, json_required=True)


def _authenticate(
    practice_id: str, event: dict[str, Any], body: bytes, now: datetime, secrets_key_arn: str
) -> None:
    """P4: signed by one of this practice's keys, over this very request; a request that
    changes something, once."""
    method = event.get("httpMethod", "GET")
    posts_event = method == "POST" and canonical_path(event).endswith("/events")
    if practice_id and posts_event:  # what the event reads comes with the keys: one request
        read_cache.prefetch(
            dal_keys.secrets(practice_id), dal_keys.profile(practice_id), *event_reads(practice_id, body)
        )
    keys = practice_keys.api_keys(secrets_key_arn, practice_id) if practice_id else {}
    if not keys:
        raise NotAuthenticatedError("unknown practice")
    if posts_event:
        verify_event_post(keys, event.get("headers") or {}, body, now)
        return  # a replayed event is a duplicate of its event_id: applied once anyway
    request = signed_request(event)
    verify_api_request(keys, request, body, now)
    if method not in ("GET", "HEAD") and not seen_signatures.first_use(
        signature_digest(request), now + 2 * REPLAY_WINDOW
    ):
        raise NotAuthenticatedError("this signed request was already used")


def patient_refusal(event: dict[str, Any]) -> dict[str, Any] | None:
    body = raw_body(event)
    return too_large(body) or body_refusal(body, json_required=False)

"""What every API request's body must pass before powertools' resolver parses it.

The resolver json-decodes a body itself for any route with a Body() parameter: a body
that is not UTF-8, or JSON nested deeper than Python's recursion limit, would crash the
function (a 502 to the caller). These checks answer such bodies with a 4xx that names
the problem, in the shape of every other API error.
"""

from __future__ import annotations

import base64
import json
from typing import Any

MAX_BODY = 64 * 1024


def error_body(message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The shape of every API error: what went wrong, and the fields it concerns."""
    return {"error": message, **({"fields": fields} if fields else {})}


def proxy_error(status: int, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """An API Gateway proxy response carrying our error shape."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(error_body(message, fields)),
        "isBase64Encoded": False,
    }


def raw_body(event: dict[str, Any]) -> bytes:
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()


def too_large(body: bytes, limit: int = MAX_BODY) -> dict[str, Any] | None:
    if len(body) > limit:
        return proxy_error(413, "body too large", [{"field": "body", "message": f"max {limit} bytes"}])
    return None


def body_refusal(body: bytes, *, json_required: bool) -> dict[str, Any] | None:
    """A 400 for a body the resolver could not survive; for a body that must be JSON,
    also for one that is not. None when the body may go on to the resolver."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return proxy_error(400, "invalid body", [{"field": "body", "message": "not UTF-8 text"}])
    try:
        json.loads(text)
    except RecursionError:
        return proxy_error(400, "invalid JSON", [{"field": "body", "message": "nested too deeply"}])
    except ValueError as exc:
        if json_required:
            return proxy_error(400, "invalid JSON", [{"field": "body", "message": str(exc)[:120]}])
    return None

"""Where a request really went, whatever URL the caller used.

API Gateway gives a REST proxy event two paths, and which one carries what depends on
how the API was called:

- default endpoint `https://<id>.execute-api.<region>.amazonaws.com/v1/l/abc`:
  `path` is `/l/abc` (no stage), `requestContext.path` is `/v1/l/abc`;
- custom domain with a base-path mapping `https://n.example.com/notify/l/abc`:
  `path` and `requestContext.path` are both `/notify/l/abc`.

Routing on `path` breaks under the second, and links built from `path` lose the stage
under the first (the patient's buttons would get 403). So routes are matched on the
path rebuilt from the resource template and its parameters, and every URL a page links
to starts with the prefix the caller's own URL had (`/v1`, `/notify` or nothing).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")


def canonical_path(event: dict[str, Any]) -> str:
    """The request path relative to the API: the resource with its parameters filled in."""
    resource = event.get("resource") or event.get("path") or "/"
    parameters = event.get("pathParameters") or {}
    return _PARAMETER.sub(lambda m: quote(str(parameters.get(m.group(1), "")), safe="~@:+,;=!$&'()*"), resource)


def public_prefix(event: dict[str, Any]) -> str:
    """What the caller's URL had before the API's own path (stage or base path), or ''."""
    full = (event.get("requestContext") or {}).get("path") or event.get("path") or ""
    canonical = canonical_path(event)
    if canonical != "/" and full.endswith(canonical):
        return full[: -len(canonical)].rstrip("/")
    return ""


def normalise(event: dict[str, Any]) -> dict[str, Any]:
    """The event with `path` set to the canonical path, so routing works behind any URL."""
    return {**event, "path": canonical_path(event)}

"""The practice API's OpenAPI document: generated from the routers, completed with what
the generator cannot know (the signing schemes, the error shape every refusal has, the
event answer, examples of every event type), and stripped of our internal rule ids.
Served at `/openapi.json` (unsigned) and committed as docs/api/openapi.json; a test
fails when the two differ."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any

from ..events import EVENT_TYPES

VERSION = "1.0.0"
SERVED_AT = "/openapi.json"
_RULE_IDS = re.compile(r"\s*\(?\b[RCFKBTPAO]\d{1,2}(?:[,/ ]+(?:and )?[RCFKBTPAO]\d{1,2})*\b\)?(?::\s*)?")

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, in a few words."},
        "fields": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorField"}},
        "status": {"type": "string", "enum": ["needs_confirmation"]},
    },
}
ERROR_FIELD = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {
        "field": {"type": "string", "description": "The field concerned, e.g. data.start"},
        "in": {"type": "string", "enum": ["body", "query", "path", "header"]},
        "message": {"type": "string"},
    },
}
EVENT_ANSWER = {
    "type": "object",
    "required": ["status", "event_id"],
    "properties": {
        "status": {
            "type": "string",
            "enum": ["applied", "duplicate", "stale", "held"],
            "description": "applied; duplicate (this event_id was applied before); stale (a later "
            "change of the same thing was applied already); held (a change of an appointment "
            "whose creation has not arrived yet: applied when it does).",
        },
        "event_id": {"type": "string"},
    },
}
SCHEMES = {
    "StandardWebhooks": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Event posts are signed as Standard Webhooks specify "
        "(https://www.standardwebhooks.com): headers webhook-id, webhook-timestamp and "
        "webhook-signature (v1, HMAC-SHA256 of `id.timestamp.body` with the API secret). "
        "The timestamp must be within five minutes of our clock.",
    },
    "HttpMessageSignatures": {
        "type": "apiKey",
        "in": "header",
        "name": "Signature",
        "description": "Every other request is signed with RFC 9421 HTTP Message Signatures "
        "(headers Signature-Input and Signature; algorithm hmac-sha256; keyid = your key id), "
        'covering @method, @path, every query parameter as "@query-param";name=... and, '
        "with a body, content-digest (RFC 9530, sha-256). `created` must be within five "
        "minutes of our clock; a signed request that changes something is accepted once.",
    },
}
_ERRORS = {
    "400": "The body is not JSON (or not UTF-8).",
    "401": "The signature is missing, wrong, for another request, too old or used before.",
    "413": "The body is larger than 64 KiB.",
    "415": "A body that is not application/json.",
    "422": "The request is invalid; `fields` names each field and why.",
}


def _example_events() -> dict[str, Any]:
    appointment = {
        "appointment_id": "a-1001",
        "patient_id": "p-77",
        "start": "2026-03-09T10:00:00+01:00",
        "end": "2026-03-09T10:30:00+01:00",
        "calendar_id": "room-1",
        "practitioner": "Dr Anna Nowak",
        "appointment_type": "Check-up",
    }
    data = {
        "appointment.created": appointment,
        "appointment.rescheduled": {
            "appointment_id": "a-1001",
            "start": "2026-03-10T09:00:00+01:00",
            "end": "2026-03-10T09:30:00+01:00",
        },
        "appointment.cancelled": {"appointment_id": "a-1001", "cancelled_by": "practice"},
        "appointment.attended": {"appointment_id": "a-1001"},
        "appointment.no_show": {"appointment_id": "a-1001"},
        "appointment.notifications": {"appointment_id": "a-1001", "enabled": False},
        "appointment.asap": {"appointment_id": "a-1001", "asap": True},
        "patient.upserted": {
            "patient_id": "p-77",
            "name": "Jan Kowalski",
            "phone": "+48601234567",
            "email": "jan@example.com",
            "locale": "pl",
        },
        "patient.erased": {"patient_id": "p-77"},
        "recall.due": {"patient_id": "p-77", "recall_type": "checkup", "due_at": "2026-09-01T00:00:00+02:00"},
        "practice.configured": {
            "settings": {"name": "Harbour Dental", "timezone": "Europe/Warsaw", "country": "PL", "locale": "pl"},
            "calendars": {"room-2": {"offers_enabled": False}},
            "callback_url": "https://pms.example.com/notify-callbacks",
        },
    }
    assert set(data) == EVENT_TYPES, "an example for every event type"
    return {
        event_type: {
            "summary": event_type,
            "value": {
                "event_id": f"evt-{event_type.replace('.', '-')}",
                "type": event_type,
                "occurred_at": "2026-03-02T08:00:00+01:00",
                "data": values,
            },
        }
        for event_type, values in data.items()
    }


def _strip_rule_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                _RULE_IDS.sub(" ", v).strip()
                if k in ("description", "summary") and isinstance(v, str)
                else _strip_rule_ids(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_strip_rule_ids(v) for v in node]
    return node


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def complete(generated: dict[str, Any]) -> dict[str, Any]:
    """The generated document with the contract's missing parts added."""
    doc: dict[str, Any] = _strip_rule_ids(copy.deepcopy(generated))
    doc["info"] = {
        "title": "Patient notifications: practice API",
        "version": VERSION,
        "description": "What a practice's system (PMS) sends us and reads back. Every request "
        "is signed with the practice's API key; see the security schemes. Times are ISO 8601 "
        "with their offset. Fields this version does not know are ignored, not refused.",
    }
    doc["servers"] = [{"url": "{api}", "variables": {"api": {"default": "https://api.example.com/v1"}}}]
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    schemas |= {"Error": ERROR, "ErrorField": ERROR_FIELD, "EventAnswer": EVENT_ANSWER}
    doc["components"]["securitySchemes"] = SCHEMES
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            operation.pop("operationId", None)
            if path == SERVED_AT:
                operation["security"] = []
                operation["responses"] = {
                    "200": {
                        "description": "This document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                }
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            has_body = "requestBody" in operation
            for code, description in _ERRORS.items():
                if code in ("400", "413", "415") and not has_body:
                    continue
                responses[code] = _error(description)
            if "{" in path.removeprefix("/practices/{practice_id}") or path.endswith(("/events", "/recalls")):
                responses["404"] = _error("Nothing with that id at this practice.")
            if method in ("post", "put", "delete"):
                responses["409"] = _error("The request conflicts with the current state (or needs confirmation).")
            if path.endswith("/events"):
                operation["security"] = [{"StandardWebhooks": []}]
                responses.pop("200", None)
                responses["202"] = {
                    "description": "Taken (see status).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventAnswer"}}},
                }
                body = operation["requestBody"]["content"]["application/json"]
                body["examples"] = _example_events()
            else:
                operation["security"] = [{"HttpMessageSignatures": []}]
    return doc


@cache
def document() -> dict[str, Any]:
    """The practice API's contract, as served and committed."""
    from .apps import practice_app

    generated = practice_app().get_openapi_schema(title="x", version=VERSION)
    raw: dict[str, Any] = generated.model_dump(mode="json", by_alias=True, exclude_none=True)
    return complete(raw)

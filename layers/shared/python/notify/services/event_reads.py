"""What applying a practice's event will read, named from its body before the body is
verified or validated (issue 16): the request's first read asks for these items with the
practice's keys and profile, one BatchGetItem instead of two requests. A hint only: a
body that names no valid id adds nothing, and nothing read is used unless the request's
signature holds (the guard refuses it first)."""

from __future__ import annotations

import json
import re

from ..dal import keys

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # contracts.Identifier


def event_reads(practice_id: str, body: bytes) -> tuple[tuple[str, str], ...]:
    """The items applying this event reads first: a change of an appointment reads the
    appointment (a creation reads nothing: it writes as if nothing were held, B9); a
    patient's details read the patient and whether they were erased (P1)."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return ()
    data = event.get("data") if isinstance(event, dict) else None
    kind = event.get("type") if isinstance(event, dict) else None
    if not isinstance(data, dict) or not isinstance(kind, str):
        return ()
    if kind.startswith("appointment.") and kind != "appointment.created":
        appointment_id = _identifier(data.get("appointment_id"))
        return (keys.appointment(practice_id, appointment_id),) if appointment_id else ()
    if kind == "patient.upserted":
        patient_id = _identifier(data.get("patient_id"))
        if patient_id:
            digest = keys.patient_digest(practice_id, patient_id)
            return keys.patient(practice_id, patient_id), keys.erased(practice_id, digest)
    return ()


def _identifier(value: object) -> str | None:
    return value if isinstance(value, str) and _IDENTIFIER.fullmatch(value) else None

"""Erasure of one patient at one practice (P1, GDPR art. 17).

`patient.erased` (event) or `DELETE .../patients/{id}` (API) writes, atomically with the
event marker, a tombstone (the patient id only as a one-way digest, so an older PMS
update cannot bring the patient back) and an erasure request. The request's stream
record starts the first pass; a second pass, scheduled after the first, removes what
work in flight wrote meanwhile (a send that read the patient just before). Each pass:

- the patient's appointments: their links, held changes, ledgers (rows and texts), and
  the appointments themselves (their removal withdraws their schedules); the patient's
  running escalations are stopped; freed-slot offers no longer name their appointments;
  the kept text of another patient's grouped reminder that listed them (R11: a family's
  phone, found through the reminders it covered) is replaced;
- the patient's recalls and their ledgers, and any other ledger row of the patient;
- practice notices and callbacks not yet sent that name the patient;
- blocked-number entries of the patient's number that concern only this patient;
- the push endpoint in SNS, and the patient record.

Counters (K6 statistics, SMS usage) never named anybody and stay. Every step is a
delete or a conditional update: repeating a pass, or the whole erasure, is harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..adapters import channels, scheduler
from ..adapters.escalation_machine import Escalations
from ..adapters.link_keys import LinkKeys
from ..adapters.scheduler import SchedulerTarget
from ..contracts import EraseRequest
from ..dal import erasures as store
from ..dal import keys
from ..domain.contact_validation import normalise_mobile
from ..domain.event_order import ChangeStamp
from ..domain.message_ids import MessageId, MessageIdError
from ..domain.model import Channel
from ..domain.patient_link import token_digest
from ..observability import logger, metrics

SECOND_PASS_AFTER = timedelta(minutes=15)


def request_erasure(
    practice_id: str, patient_id: str, stamp: ChangeStamp, now: datetime, event: tuple[str, str]
) -> str:
    """Record the erasure (tombstone and request, with the event marker); returns the
    intake status. Raises DuplicateEventError for a replayed event."""
    digest = keys.patient_digest(practice_id, patient_id)
    store.request(practice_id, patient_id, digest, stamp.key, uuid.uuid4().hex, now, event)
    logger.info("erasure requested", practice_id=practice_id)
    return "applied"


@dataclass(frozen=True)
class ErasureDeps:
    links: LinkKeys
    escalations: Escalations
    settle_target: SchedulerTarget  # where the second pass is scheduled to fire


@dataclass
class ErasureOutcome:
    removed: int = 0
    anonymised: int = 0
    endpoints: int = 0
    escalations_stopped: int = 0
    passes_done: int = 0
    details: dict[str, int] = field(default_factory=dict)


def erase(practice_id: str, request_id: str, now: datetime, deps: ErasureDeps) -> ErasureOutcome:
    """One pass of an erasure request (the first from its stream record, the second from
    its schedule). Unknown request (both passes done): nothing to do."""
    outcome = ErasureOutcome()
    request = store.get_request(practice_id, request_id)
    if request is None:
        return outcome
    patient_id = request.patient_id
    patient = store.patient_contact(practice_id, patient_id)
    appointments = store.appointments_of(practice_id, patient_id) | set(request.appointment_ids)
    recall_ids = store.recalls_of(practice_id, patient_id) | set(request.recall_ids)
    subjects = list(appointments) + [f"recall.{r}" for r in recall_ids]
    ledgers = {subject: store.ledger_messages(practice_id, subject) for subject in subjects}
    # R11: another patient's grouped reminder (a family's phone) listed these appointments.
    groups = set(request.group_messages) | {
        m.covered_by for rows in ledgers.values() for m in rows if m.covered_by
    }
    store.remember(practice_id, request_id, appointments, recall_ids, groups)

    for subject, rows in ledgers.items():
        for message in rows:
            outcome.escalations_stopped += int(_stop_escalation(deps, practice_id, message))
        outcome.removed += store.delete_ledger(practice_id, subject)
    outcome.removed += store.delete_ledger_rows_of(practice_id, "patient", patient_id)
    for appointment_id, generation in store.link_generations(practice_id, appointments):
        outcome.removed += store.delete_link(
            token_digest(deps.links.appointment_token(practice_id, appointment_id, generation))
        )
    outcome.anonymised += store.anonymise_offers(practice_id, appointments)
    outcome.removed += store.delete_notices_naming(practice_id, patient_id, appointments)
    if patient is not None and patient.phone:
        number = normalise_mobile(patient.phone, store.practice_country(practice_id))
        if number and not _shared(practice_id, patient_id, number):
            outcome.removed += store.delete_number_entries(practice_id, number)
    if patient is not None and patient.push_endpoint:
        outcome.endpoints += int(channels.delete_endpoint(patient.push_endpoint))
    outcome.removed += store.delete_appointments(practice_id, appointments)
    # After the appointments: a grouped SMS still waiting (D17) finds them gone and is
    # written again without them, never with the redacted text.
    outcome.anonymised += sum(store.redact_group_text(practice_id, m) for m in groups)
    outcome.removed += store.delete_recalls(practice_id, recall_ids)
    outcome.removed += store.delete_patient_items(practice_id, patient_id)

    outcome.passes_done = store.pass_done(practice_id, request_id)
    if outcome.passes_done == 1:
        scheduler.plan_schedule(
            deps.settle_target,
            f"erase.{request_id}",
            now + SECOND_PASS_AFTER,
            {"erase": EraseRequest(practice_id=practice_id, request_id=request_id).model_dump()},
        )
    else:
        store.forget(practice_id, request_id)
    metrics.add_metric(name="ErasurePasses", unit="Count", value=1)
    logger.info(
        "erasure pass",
        removed=outcome.removed,
        anonymised=outcome.anonymised,
        endpoints=outcome.endpoints,
        escalations=outcome.escalations_stopped,
        passes_done=outcome.passes_done,
    )
    return outcome


def _stop_escalation(deps: ErasureDeps, practice_id: str, message: store.LedgerMessage) -> bool:
    if message.channel not in (Channel.PUSH.value, Channel.EMAIL.value):
        return False
    try:
        MessageId.parse(message.message_id)
    except MessageIdError:
        return False
    return deps.escalations.stop(practice_id, message.message_id)


def _shared(practice_id: str, patient_id: str, number: str) -> bool:
    """Does another patient of the practice have this number (a family phone)?"""
    country = store.practice_country(practice_id)
    others: Iterable[str] = store.other_phones(practice_id, patient_id)
    return any(normalise_mobile(phone, country) == number for phone in others)

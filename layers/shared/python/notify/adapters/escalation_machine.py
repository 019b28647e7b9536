"""The escalation state machine (wait, check, SMS): one execution per pushed message."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from .aws_clients import client


def start_escalation(practice_id: str, message_id: str, payload: dict[str, Any]) -> bool:
    """Start the execution named after the practice's message; False if started before.

    The name makes the start idempotent (and moto needs a name anyway). Message ids are
    unique within a practice only, hence the practice in the name.
    """
    sfn = client("stepfunctions")
    name = hashlib.sha256(f"{practice_id}/{message_id}".encode()).hexdigest()[:40]
    try:
        sfn.start_execution(
            stateMachineArn=os.environ["ESCALATION_STATE_MACHINE_ARN"],
            name=name,
            input=json.dumps(payload, separators=(",", ":")),
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return False
    return True

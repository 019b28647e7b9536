"""The escalation state machine (wait, check, SMS): one execution per pushed message."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from .aws_clients import client


def start_escalation(message_id: str, payload: dict[str, Any]) -> bool:
    """Start the execution named after the message; False if it was started before.

    The name makes the start idempotent (and moto needs a name anyway).
    """
    sfn = client("stepfunctions")
    name = hashlib.sha256(message_id.encode()).hexdigest()[:40]
    try:
        sfn.start_execution(stateMachineArn=os.environ["ESCALATION_STATE_MACHINE_ARN"],
                            name=name, input=json.dumps(payload, separators=(",", ":")))
    except sfn.exceptions.ExecutionAlreadyExists:
        return False
    return True

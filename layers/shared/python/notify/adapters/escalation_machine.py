"""The escalation state machine (wait, check, SMS): one execution per pushed message."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .aws_clients import client


def execution_name(practice_id: str, message_id: str) -> str:
    """Named after the practice's message: a second start is refused (idempotent). Message
    ids are unique within a practice only, hence the practice in the name."""
    return hashlib.sha256(f"{practice_id}/{message_id}".encode()).hexdigest()[:40]


class Escalations:
    def __init__(self, state_machine_arn: str) -> None:
        self.state_machine_arn = state_machine_arn

    def start(self, practice_id: str, message_id: str, payload: dict[str, Any]) -> bool:
        """Start the execution; False if it was started before."""
        sfn = client("stepfunctions")
        try:
            sfn.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=execution_name(practice_id, message_id),
                input=json.dumps(payload, separators=(",", ":")),
            )
        except sfn.exceptions.ExecutionAlreadyExists:
            return False
        return True

    def stop(self, practice_id: str, message_id: str, cause: str = "patient erased") -> bool:
        """Stop a running escalation (P1: its patient was erased; D19: its practice left);
        False if none runs."""
        sfn = client("stepfunctions")
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:")
        try:
            sfn.stop_execution(executionArn=f"{arn}:{execution_name(practice_id, message_id)}", cause=cause)
        except (sfn.exceptions.ExecutionDoesNotExist, sfn.exceptions.InvalidArn):
            return False
        return True

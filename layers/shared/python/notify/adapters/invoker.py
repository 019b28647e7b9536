"""Asynchronous invocation of send_push for messages due at once (confirmations, notices).

Async invokes get Lambda's retries and the function's on-failure destination (B8).
"""

from __future__ import annotations

import json
import os
from typing import Any

from .aws_clients import client


def send_now(payload: dict[str, Any]) -> None:
    client("lambda").invoke(
        FunctionName=os.environ["SEND_FUNCTION_ARN"],
        InvocationType="Event",
        Payload=json.dumps(payload, separators=(",", ":")).encode(),
    )

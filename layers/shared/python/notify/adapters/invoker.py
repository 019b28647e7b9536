"""Asynchronous invocation of send_push for messages due at once (notices, offers, recalls).

Async invokes get Lambda's retries and the function's on-failure destination (B8).
"""

from __future__ import annotations

from ..contracts import SendRequest
from .aws_clients import client


class Invoker:
    def __init__(self, function_arn: str) -> None:
        self.function_arn = function_arn

    def send_now(self, request: SendRequest) -> None:
        client("lambda").invoke(
            FunctionName=self.function_arn, InvocationType="Event", Payload=request.payload_json().encode()
        )

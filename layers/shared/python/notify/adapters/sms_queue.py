"""The paced SMS queue (SQS, D17): an SMS waits here until the moment its rates gave it."""

from __future__ import annotations

from dataclasses import dataclass

from .aws_clients import client


@dataclass(frozen=True)
class SmsQueue:
    url: str

    def send(self, body: str, delay_seconds: int) -> None:
        """Queue `body`, visible after `delay_seconds` (SQS allows 0 to 900)."""
        client("sqs").send_message(QueueUrl=self.url, MessageBody=body, DelaySeconds=delay_seconds)

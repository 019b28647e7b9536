"""The messages of an SNS event (Records[].Sns.Message), read without powertools' data
classes, whose package imports every event class it has (20 ms of a cold start)."""

from __future__ import annotations

from typing import Any


def sns_messages(event: dict[str, Any]) -> list[str]:
    return [record["Sns"]["Message"] for record in event.get("Records", [])]

"""The idempotency key of one message: which subject (appointment or recall), which kind,
which version of the subject (a recall's version is its period), for a freed-slot offer
which slot, and for one of several reminders (R10) how many hours before the start.
Built and parsed here only (the ledger, schedules, escalations and the app's read
receipts all carry it)."""

from __future__ import annotations

from dataclasses import dataclass

from .model import MessageKind

RECALL_SUBJECT = "recall."


class MessageIdError(ValueError):
    """Not a message id of ours."""


@dataclass(frozen=True)
class MessageId:
    subject_id: str  # the appointment id, or "recall.<recall id>"
    kind: MessageKind
    version: int
    slot_id: str | None = None
    offset_hours: int | None = None

    def __str__(self) -> str:
        base = f"{self.subject_id}#{self.kind.value}#v{self.version}"
        if self.slot_id:
            return f"{base}#{self.slot_id}"
        return base if self.offset_hours is None else f"{base}#{self.offset_hours}h"

    @property
    def is_recall(self) -> bool:
        return self.subject_id.startswith(RECALL_SUBJECT)

    @classmethod
    def parse(cls, text: str) -> MessageId:
        parts = text.split("#")
        if len(parts) not in (3, 4) or not parts[0] or not parts[2].startswith("v"):
            raise MessageIdError(text)
        try:
            kind, version = MessageKind(parts[1]), int(parts[2][1:])
            if len(parts) == 4 and kind is MessageKind.REMINDER:  # R10: "<hours>h"
                if not parts[3].endswith("h"):
                    raise ValueError(parts[3])
                return cls(parts[0], kind, version, offset_hours=int(parts[3][:-1]))
        except ValueError as exc:
            raise MessageIdError(text) from exc
        return cls(parts[0], kind, version, parts[3] if len(parts) == 4 else None)

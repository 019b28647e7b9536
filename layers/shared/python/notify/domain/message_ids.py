"""The idempotency key of one message: which subject (appointment or recall), which kind,
which version of the subject (a recall's version is its period), and for a freed-slot
offer which slot. Built and parsed here only (the ledger, schedules, escalations and the
app's read receipts all carry it)."""

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

    def __str__(self) -> str:
        base = f"{self.subject_id}#{self.kind.value}#v{self.version}"
        return f"{base}#{self.slot_id}" if self.slot_id else base

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
        except ValueError as exc:
            raise MessageIdError(text) from exc
        return cls(parts[0], kind, version, parts[3] if len(parts) == 4 else None)

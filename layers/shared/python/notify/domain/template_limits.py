"""What a practice may word itself (B3, P6): the limits, without the sandbox's jinja2, so
settings can be checked for size by functions that never render (issue 16)."""

from __future__ import annotations

from .model import MessageKind

LOCALES = ("en", "pl", "fr")
PARTS = ("sms", "push_title", "push_body", "email_subject", "email_text")
MAX_TEMPLATE_CHARS = 4000
# The kinds a practice may word itself (our answers to texts are ours: T1, T2).
KINDS = tuple(k for k in MessageKind if k is not MessageKind.REPLY)
MAX_TEMPLATES = 3 * len(KINDS)

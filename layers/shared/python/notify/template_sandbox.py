"""A practice's own message templates (B3) are data, never code (P6).

They render in jinja2's immutable sandbox with nothing in reach but the message's own
values (strings, numbers, booleans): no globals (`range`, `cycler`, `lipsum`...), no
attribute walks to `__globals__` or `__subclasses__`, no calls of methods that change
anything, no `{% include %}` or `{% extends %}` of anything but the practice's own
templates. They are checked when configured: the name says a language and a message
kind we send, it compiles, it has every part a message needs, it renders with sample
values for that kind, it stays within a size limit and the SMS within the practice's
segment budget. A template that still fails when a message goes out falls back to our
own text for that kind (rendering.py), so no message is lost to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import DictLoader, StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .domain.model import MessageKind
from .domain.sms_segments import segment_count
from .domain.template_limits import KINDS, LOCALES, MAX_TEMPLATE_CHARS, MAX_TEMPLATES, PARTS

MAX_RENDERED_CHARS = 8000
_NAME = re.compile(r"^(?P<locale>[a-z]{2})/(?P<kind>[a-z_]+)\.j2$")
_SAFE_TYPES = (str, int, float, bool, type(None))


class TemplateProblem(ValueError):
    """A practice template that cannot be used, and why (shown to the practice)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class _Sandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, with `*` and `**` bounded (`'x' * 10**9` would
    otherwise build a gigabyte before any size check)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        numbers = [v for v in (left, right) if isinstance(v, int | float)]
        if operator == "**" and any(abs(v) > 64 for v in numbers):
            raise SecurityError("exponent too large")
        sequence = any(isinstance(v, str | list | tuple) for v in (left, right))
        if operator == "*" and sequence and any(v > MAX_RENDERED_CHARS for v in numbers):
            raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _sandbox(templates: tuple[tuple[str, str], ...]) -> ImmutableSandboxedEnvironment:
    env = _Sandbox(
        loader=DictLoader(dict(templates)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.globals.clear()  # no range, dict, cycler, joiner, namespace, lipsum
    return env


@lru_cache(maxsize=64)
def _environment(templates: tuple[tuple[str, str], ...]) -> ImmutableSandboxedEnvironment:
    return _sandbox(templates)


def only_values(context: Mapping[str, Any]) -> dict[str, Any]:
    """The message's values, and nothing that has methods worth calling."""
    return {k: v for k, v in context.items() if isinstance(v, _SAFE_TYPES)}


def render_parts(templates: Mapping[str, str], name: str, context: Mapping[str, Any]) -> dict[str, str]:
    """Every part (block) of the practice's template `name`, rendered in the sandbox.
    Raises TemplateError (incl. SecurityError) or TemplateProblem."""
    env = _environment(tuple(sorted(templates.items())))
    template = env.get_template(name)
    ctx = template.new_context(only_values(context))
    parts = {part: "".join(block(ctx)).strip() for part, block in template.blocks.items()}
    missing = [p for p in PARTS if p not in parts]
    if missing:
        raise TemplateProblem(name, f"missing block(s): {', '.join(missing)}")
    too_long = [p for p, text in parts.items() if len(text) > MAX_RENDERED_CHARS]
    if too_long:
        raise TemplateProblem(name, f"{too_long[0]} renders to more than {MAX_RENDERED_CHARS} characters")
    return parts


@dataclass(frozen=True)
class Budget:
    """What a practice's SMS may cost: segments per message (C7's currency)."""

    sms_segments: int


def _sample(kind: MessageKind, locale: str) -> dict[str, Any]:
    """Values like a real message's, at their longest plausible length (a link is what
    a patient gets: the API's default URL and a full token)."""
    link = "https://abcdefghij.execute-api.eu-central-1.amazonaws.com/v1/l/AbCdEfGhIjKlMnOp"
    when = {"en": "Wednesday 30 September 2026, 10:30", "pl": "środa 30 września 2026, 10:30"}
    when_short = {"en": "30 Sep 10:30", "pl": "30.09 10:30", "fr": "30/09 10:30"}
    values: dict[str, Any] = {
        "practice": "Harbour Dental Practice",
        "practitioner": "Dr Anna Kowalska-Nowak",
        "first_name": "Katarzyna",
        "appointment_type": "Check-up",
        "link": link,
        "confirm_link": f"{link}/confirm",
        "cancel_link": f"{link}/cancel",
        "reschedule_link": f"{link}/reschedule",
        "booking_link": "https://book.example.com/harbour",
        "review_link": "https://reviews.example.com/harbour",
        "instructions": "Please arrive ten minutes early.",
        "from_recall": False,
        "reply": True,
        "map_url": "https://maps.example.com/harbour",
        "parking_info": "Free parking behind the building.",
        "practitioner_photo_url": "https://cdn.example.com/dr.jpg",
        "when": when.get(locale, "mercredi 30 septembre 2026, 10:30"),
        "when_short": when_short[locale],
    }
    if kind is MessageKind.SLOT_OFFER:
        values |= {
            "slot_when": values["when"],
            "slot_when_short": values["when_short"],
            "offer_link": f"{link}/offer/s1",
        }
    if kind is MessageKind.RECALL:
        values |= {"recall_type": "hygiene visit", "category": "health", "link": link.replace("/l/", "/r/")}
    return values


def check(templates: Mapping[str, str], budget: Budget) -> None:
    """Refuse (TemplateProblem naming the template) what cannot be used; None if all can."""
    if len(templates) > MAX_TEMPLATES:
        raise TemplateProblem("templates", f"at most {MAX_TEMPLATES} templates")
    kinds = {k.value: k for k in KINDS}
    for name, source in sorted(templates.items()):
        match = _NAME.match(name)
        if not match or match["locale"] not in LOCALES or match["kind"] not in kinds:
            raise TemplateProblem(
                name, f"name must be <language>/<kind>.j2, a language of {', '.join(LOCALES)} and a kind we send"
            )
        if not isinstance(source, str) or len(source) > MAX_TEMPLATE_CHARS:
            raise TemplateProblem(name, f"a template is text of at most {MAX_TEMPLATE_CHARS} characters")
        try:
            parts = render_parts(dict(templates), name, _sample(kinds[match["kind"]], match["locale"]))
        except TemplateProblem:
            raise
        except (TemplateError, RecursionError, ArithmeticError, TypeError, ValueError) as exc:
            raise TemplateProblem(name, f"does not render: {type(exc).__name__}: {str(exc)[:200]}") from exc
        sms = " ".join(parts["sms"].split())
        if segment_count(sms) > budget.sms_segments:
            raise TemplateProblem(
                name,
                f"the SMS is {segment_count(sms)} segments with sample values; the limit is {budget.sms_segments}",
            )

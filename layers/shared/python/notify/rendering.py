"""Message texts from jinja2 templates (B3): one file per kind and language, one block per
channel part. Dates are formatted for the patient's language in the practice's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .domain.model import MessageKind
from .domain.sms_segments import segment_count, transliterate
from .domain.template_limits import LOCALES

if TYPE_CHECKING:
    from jinja2 import Environment

# jinja2, babel and the sandbox load on first use, not with the module (issue 16: a
# function that never renders never pays for them).
_TEMPLATES = Path(__file__).parent / "templates"
# Numeric day and month keep SMS short and free of diacritics in every language.
_SHORT_FORMAT = {"en": "d MMM HH:mm", "pl": "dd.MM HH:mm", "fr": "dd/MM HH:mm"}
_LONG_FORMAT = "EEEE d MMMM y, HH:mm"
_DAY_FORMAT = {"en": "d MMM", "pl": "dd.MM", "fr": "dd/MM"}


@dataclass(frozen=True)
class Rendered:
    sms: str
    push_title: str
    push_body: str
    email_subject: str
    email_text: str
    email_html: str
    fallback: str | None = None  # why the practice's own template was not used (P6)

    @property
    def sms_segments(self) -> int:
        return segment_count(self.sms)


def pick_locale(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate and candidate[:2].lower() in LOCALES:
            return candidate[:2].lower()
    return "en"


def local_times(moment: datetime, timezone: str, locale: str) -> dict[str, str]:
    """The appointment time as patients read it: practice-local, in their language (B1)."""
    from babel.dates import format_datetime

    local = moment.astimezone(ZoneInfo(timezone))
    return {
        "when": format_datetime(local, _LONG_FORMAT, locale=locale),
        "when_short": format_datetime(local, _SHORT_FORMAT[locale], locale=locale),
        "day_short": format_datetime(local, _DAY_FORMAT[locale], locale=locale),
        "time": format_datetime(local, "HH:mm", locale=locale),
    }


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """Our own templates (the practice's never render here: template_sandbox.py)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=False),
        keep_trailing_newline=False,
    )


def _our_parts(kind: MessageKind, locale: str, context: dict[str, Any]) -> dict[str, str]:
    template = _environment().get_template(f"{locale}/{kind.value}.j2")
    ctx = template.new_context(context)
    return {name: "".join(block(ctx)).strip() for name, block in template.blocks.items()}


def render(
    kind: MessageKind,
    locale: str,
    context: dict[str, Any],
    overrides: dict[str, str] | None = None,
    transliterate_sms: bool = False,
) -> Rendered:
    """Render every channel part of `kind` in `locale`.

    Args:
        overrides: a practice's own templates, keyed "<locale>/<kind>.j2" (B3), rendered
            in the sandbox (P6); one that fails falls back to ours, with the reason.
        transliterate_sms: replace non-GSM-7 letters in the SMS (one segment, not three).
    """
    from markupsafe import escape

    name = f"{locale}/{kind.value}.j2"
    fallback = None
    if overrides and name in overrides:
        from . import template_sandbox

        try:
            parts = template_sandbox.render_parts(overrides, name, context)
        except Exception as exc:  # any failure of practice content: our text goes instead
            fallback = f"practice template {name} failed: {type(exc).__name__}"
            parts = _our_parts(kind, locale, context)
    else:
        parts = _our_parts(kind, locale, context)
    sms = " ".join(parts["sms"].split())
    if transliterate_sms:
        sms = transliterate(sms)
    html_body = "<br>".join(str(escape(line)) for line in parts["email_text"].splitlines())
    html = f'<!doctype html><html><body style="font-family:sans-serif"><p>{html_body}</p></body></html>'
    return Rendered(
        sms=sms,
        push_title=parts["push_title"],
        push_body=parts["push_body"],
        email_subject=parts["email_subject"],
        email_text=parts["email_text"],
        email_html=html,
        fallback=fallback,
    )


def render_answer(name: str, locale: str, context: dict[str, Any]) -> str:
    """One of our answers to a patient's text (T1, T2): `name` is a block of
    <locale>/answers.txt.j2 (confirmed, cancelled, not_allowed, stopped, started, help)."""
    template = _environment().get_template(f"{pick_locale(locale)}/answers.txt.j2")
    block = template.blocks[name]
    return " ".join("".join(block(template.new_context(context))).split())

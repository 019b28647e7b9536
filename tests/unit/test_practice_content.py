"""P6: what a practice supplies is data, never code. Templates are tried with the known
jinja2 escapes and URLs with the usual server-side request forgery targets."""

from __future__ import annotations

import os
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notify.adapters import public_urls
from notify.domain.model import MessageKind
from notify.practice_settings import SettingsInput, SettingsProblem, validate_configuration, validate_settings
from notify.rendering import render

GOOD_BLOCKS = (
    "{% block push_title %}Reminder{% endblock %}"
    "{% block push_body %}{{ when }}{% endblock %}"
    "{% block email_subject %}Reminder{% endblock %}"
    "{% block email_text %}Hello {{ first_name }}{% endblock %}"
)
ESCAPES = {
    "globals through cycler": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "globals through lipsum": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "globals through a value's class": "{{ practice.__class__.__mro__[1].__subclasses__() }}",
    "subclasses walk": "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "template reference context": "{{ self._TemplateReference__context }}",
    "format-string attribute walk": "{{ '{0.__class__.__init__.__globals__}'.format(practice) }}",
    "format_map walk": "{{ '{x.__class__}'.format_map({'x': practice}) }}",
    "string formatting filter": "{{ '%s' | format(practice.__class__) }}",
    "attr filter to dunder": "{{ practice | attr('__class__') }}",
    "namespace global": "{% set ns = namespace(x=1) %}{{ ns }}",
    "range global (memory)": "{{ range(10**7) | list | length }}",
    "huge repetition": "{{ 'x' * 1000000000 }}",
    "huge power": "{{ 10 ** 100000 }}",
    "config object": "{{ config }}",
    "include outside the practice's templates": "{% include 'en/reminder.j2' %}",
}


def _template(sms: str) -> str:
    return "{% block sms %}" + sms + "{% endblock %}" + GOOD_BLOCKS


@pytest.mark.parametrize("payload", list(ESCAPES.values()), ids=list(ESCAPES))
def test_p6_a_jinja2_escape_in_a_practice_template_is_refused_when_configured(payload):
    with pytest.raises(SettingsProblem) as refused:
        validate_settings({"templates": {"en/reminder.j2": _template(payload)}})
    assert refused.value.field == "settings.templates.en/reminder.j2"


@pytest.mark.parametrize("payload", list(ESCAPES.values()), ids=list(ESCAPES))
def test_p6_a_stored_escape_never_runs_at_send_time_our_text_goes_instead(payload):
    """A template stored before these checks (or by a bug) still renders in the sandbox:
    the message goes out with our own text and says why."""
    context = {"practice": "Harbour", "when": "Monday", "when_short": "Mon", "first_name": "Jan", "link": "L"}
    context |= {
        "practitioner": "",
        "confirm_link": "L",
        "cancel_link": "L",
        "reschedule_link": "L",
        "reply": False,
    }
    rendered = render(MessageKind.REMINDER, "en", context, overrides={"en/reminder.j2": _template(payload)})
    assert rendered.fallback and "en/reminder.j2" in rendered.fallback
    assert "uid=" not in rendered.sms and "class" not in rendered.sms
    assert rendered.sms.startswith("Reminder: Harbour")


def test_p6_a_good_template_renders_in_the_sandbox_with_the_messages_values():
    template = _template("{{ practice }}: {{ when_short }}. {{ link }}")
    validate_settings({"templates": {"en/reminder.j2": template}})
    context = {
        "practice": "Harbour",
        "when": "Monday",
        "when_short": "Mon 10:00",
        "first_name": "Jan",
        "link": "L",
    }
    rendered = render(MessageKind.REMINDER, "en", context, overrides={"en/reminder.j2": template})
    assert rendered.fallback is None and rendered.sms == "Harbour: Mon 10:00. L"


def test_p6_validation_errors_name_the_template_and_the_problem():
    cases = {
        "broken syntax": ({"en/reminder.j2": _template("{{ practice ")}, "does not render: TemplateSyntaxError"),
        "unknown value": ({"en/reminder.j2": _template("{{ diagnosis }}")}, "does not render: UndefinedError"),
        "missing part": ({"en/reminder.j2": "{% block sms %}x{% endblock %}"}, "missing block(s): push_title"),
        "too long SMS": ({"pl/reminder.j2": _template("Przypomnienie ąę " * 30 + "{{ link }}")}, "segments"),
        "unknown kind": ({"en/diagnosis.j2": _template("x")}, "name must be <language>/<kind>.j2"),
        "too large": ({"en/reminder.j2": _template("x" * 5000)}, "at most 4000 characters"),
    }
    seen = {}
    for case, (templates, expected) in cases.items():
        with pytest.raises(SettingsProblem) as refused:
            validate_settings({"templates": templates})
        seen[case] = refused.value.message
        assert expected in refused.value.message, (case, refused.value.message)
        assert refused.value.field == f"settings.templates.{next(iter(templates))}"
    assert "the limit is 3" in seen["too long SMS"]
    print("\nP6 template errors:", seen)


def test_p6_every_practice_string_is_bounded_and_unknown_settings_are_refused():
    for raw, field in (
        ({"name": "x" * 201}, "settings.name"),
        ({"after_booking_instructions": "x" * 1001}, "settings.after_booking_instructions"),
        ({"no_fallback_types": ["x"] * 51}, "settings.no_fallback_types"),
        ({"timezone": "Mars/Olympus"}, "settings.timezone"),
        ({"retention_days": 0}, "settings.retention_days"),
        ({"colour": "blue"}, "settings.colour"),
    ):
        with pytest.raises(SettingsProblem) as refused:
            validate_settings(raw)
        assert refused.value.field == field


SSRF = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://2130706433/hook",
    "https://0x7f000001/hook",
    "https://0177.0.0.1/hook",
    "https://127.1/hook",
    "https://metadata.google.internal/hook",
    "https://pms.local/hook",
    "https://user:secret@pms.example.com/hook",
    "http://pms.example.com/hook",
    "file:///etc/passwd",
    "ftp://pms.example.com/hook",
    "gopher://pms.example.com:70/",
    "http://127.0.0.1:8080/hook",  # loopback http: the local stack's allowance only
]


@pytest.mark.parametrize("url", SSRF)
def test_p6_a_practice_url_to_anything_but_a_public_https_host_is_refused(url):
    with pytest.raises(public_urls.UnsafeUrlError):
        public_urls.check(url)
    with pytest.raises(SettingsProblem) as refused:
        validate_configuration({"settings": {"booking_url": url}})
    assert refused.value.field == "settings.booking_url"
    with pytest.raises(SettingsProblem) as refused:
        validate_configuration({"callback_url": url})
    assert refused.value.field == "callback_url"


def _resolver(*addresses: str):
    def resolve(host, port, type=0):  # noqa: A002 - getaddrinfo's own keyword
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "", (a, port)) for a in addresses]

    return resolve


@pytest.mark.parametrize(
    "answer", [("10.0.0.5",), ("203.0.113.9", "127.0.0.1"), ("::1",), ("169.254.169.254",), ("fd00::5",)]
)
def test_p6_a_public_name_that_resolves_to_a_private_address_is_refused_at_each_call(answer):
    with pytest.raises(public_urls.UnsafeUrlError, match="resolves to a private"):
        public_urls.check("https://pms.example.com/hook", resolver=_resolver(*answer))
    with pytest.raises(public_urls.UnsafeUrlError):
        public_urls.post("https://pms.example.com/hook", b"{}", {}, resolver=_resolver(*answer))


def test_p6_public_https_urls_pass():
    for url in (
        "https://pms.example.com/hooks/notify?x=1",
        "https://[2001:4860:4860::8888]/h",
        "https://8.8.8.8/h",
    ):
        assert public_urls.check(url, resolver=_resolver("8.8.8.8")).scheme == "https"
    validate_configuration(
        {"settings": {"booking_url": "https://book.example.com/x"}, "callback_url": "https://pms.example.com/h"}
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5),
    max_leaves=20,
)
_fields = st.sampled_from(sorted(SettingsInput.model_fields) + ["colour", "templates"])


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)
@given(
    st.dictionaries(_fields, _json, max_size=6),
    st.dictionaries(st.text(max_size=70), st.dictionaries(_fields, _json, max_size=3), max_size=2),
    st.one_of(st.none(), st.text(max_size=100)),
)
def test_p6_fuzzed_settings_are_stored_or_refused_by_field_never_crash(raw, calendars, callback):
    try:
        validate_configuration({"settings": raw, "calendars": calendars, "callback_url": callback})
    except SettingsProblem as problem:
        assert problem.field and problem.message

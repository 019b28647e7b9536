"""What a practice may set (C8), validated before it is stored (P6).

One model for every way settings arrive: the operator CLI's onboarding and the
`practice.configured` event. Every string is bounded, every number has a sane range,
every URL is https to a public host (adapters/public_urls.py), and the practice's own
templates are checked in the sandbox (template_sandbox.py). A calendar's own settings
(C8) are the practice's with some values replaced, validated as a whole.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .adapters import public_urls
from .contracts import Identifier, RecallType
from .dal.conversions import settings_from_json
from .domain.model import PracticeSettings, RecallCategory, ReminderPolicy
from .domain.template_limits import MAX_TEMPLATES

Text = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=1000)]


def _public_url(value: str) -> str:
    if value:
        try:
            public_urls.parse(value)
        except public_urls.UnsafeUrlError as exc:
            raise ValueError(str(exc)) from exc
    return value


PublicUrl = Annotated[str, Field(max_length=public_urls.MAX_URL_LENGTH), AfterValidator(_public_url)]


class RecallRuleInput(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    recall_type: RecallType
    interval_days: int = Field(ge=1, le=3650)
    appointment_types: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    category: RecallCategory = RecallCategory.HEALTH


class SettingsInput(BaseModel):
    """Every field of PracticeSettings, bounded; unknown names are refused (a typo in a
    setting would otherwise silently change nothing)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    timezone: str = Field(default="UTC", max_length=64)
    country: str = Field(default="GB", pattern=r"^[A-Z]{2}$")
    locale: Literal["en", "pl", "fr"] = "en"
    name: Text = ""
    reminder_policy: ReminderPolicy = ReminderPolicy.LEAD_TIME
    fixed_offset_hours: int = Field(default=24, ge=1, le=336)
    reminder_offsets_hours: list[Annotated[int, Field(ge=1, le=720)]] = Field(default_factory=list, max_length=4)
    remind_after_confirmation: bool = True
    max_automated_per_day: int = Field(default=2, ge=1, le=20)
    max_automated_per_week: int = Field(default=5, ge=1, le=50)
    rebook_after_no_show: bool = False
    push_fallback_minutes: int = Field(default=120, ge=5, le=1440)
    no_fallback_types: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=lambda: ["COVID-19 vaccine"], max_length=50
    )
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    uses_email: bool = True
    sms_quota: int = Field(default=50, ge=0, le=1_000_000)
    sms_quota_warning: float = Field(default=0.8, ge=0, le=1)
    sms_default_on: bool = True
    sms_transliterate: bool = False
    sms_max_segments: int = Field(default=3, ge=1, le=6)
    review_for_practice_bookings: bool = False
    templates: dict[str, str] = Field(default_factory=dict)
    offers_enabled: bool = True
    offer_min_notice_hours: int = Field(default=48, ge=0, le=336)
    offer_min_gap_hours: int = Field(default=48, ge=0, le=336)
    offer_candidates: int = Field(default=10, ge=1, le=50)
    offer_waves: int = Field(default=1, ge=1, le=5)
    offer_wave_minutes: int = Field(default=60, ge=15, le=1440)
    reschedule_requests: bool = True
    booking_url: PublicUrl = ""
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9+() .-]*$")
    review_url: PublicUrl = ""
    after_booking_instructions: LongText = ""
    link_base_url: PublicUrl = ""
    recalls_enabled: bool = False
    recall_rules: list[RecallRuleInput] = Field(default_factory=list, max_length=20)
    recall_hour: int = Field(default=10, ge=0, le=23)
    cancel_cutoff_minutes: int = Field(default=0, ge=0, le=10080)
    retention_days: int = Field(default=90, ge=7, le=3650)
    notice_delay_seconds: int = Field(default=60, ge=0, le=3600)
    recall_result_escalation_hours: int = Field(default=2, ge=1, le=168)
    recall_health_escalation_hours: int = Field(default=24, ge=1, le=336)
    recall_sms: bool = True
    recall_email: bool = True
    map_url: PublicUrl = ""
    parking_info: LongText = ""
    practitioner_photo_url: PublicUrl = ""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone, e.g. Europe/Warsaw") from exc
        return value

    @field_validator("templates")
    @classmethod
    def _templates_fit(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_TEMPLATES:
            raise ValueError(f"at most {MAX_TEMPLATES} templates")
        return value


class SettingsProblem(ValueError):
    """Settings that cannot be stored: the field (dotted path) and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Configuration(BaseModel):
    """A practice's whole configuration: its settings, its calendars' own values (C8)
    and the URL its notices are posted to (B6)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    settings: dict[str, Any] = Field(default_factory=dict)
    calendars: dict[Identifier, dict[str, Any]] = Field(default_factory=dict, max_length=100)
    callback_url: str | None = Field(default=None, max_length=public_urls.MAX_URL_LENGTH)


def _first_problem(error: ValidationError, prefix: str) -> SettingsProblem:
    first = error.errors()[0]
    path = ".".join(str(p) for p in (prefix, *first.get("loc", ())) if p != "")
    return SettingsProblem(path, str(first.get("msg", "invalid")).removeprefix("Value error, "))


def validate_settings(raw: dict[str, Any], prefix: str = "settings") -> PracticeSettings:
    """Settings as stored and used, or SettingsProblem naming the field."""
    try:
        model = SettingsInput.model_validate(raw)
    except ValidationError as exc:
        raise _first_problem(exc, prefix) from exc
    from . import template_sandbox  # jinja2 loads only when a configuration is checked

    budget = template_sandbox.Budget(sms_segments=model.sms_max_segments)
    try:
        template_sandbox.check(model.templates, budget)
    except template_sandbox.TemplateProblem as exc:
        raise SettingsProblem(f"{prefix}.templates.{exc.name}", exc.message) from exc
    return settings_from_json(model.model_dump(mode="json"))


def validate_configuration(
    raw: dict[str, Any], *, loopback_http: bool = False
) -> tuple[PracticeSettings, dict[str, dict[str, Any]], str | None]:
    """(settings, calendars, callback_url) of a configuration, or SettingsProblem."""
    try:
        config = Configuration.model_validate(raw)
    except ValidationError as exc:
        raise _first_problem(exc, "") from exc
    settings = validate_settings(config.settings)
    for calendar_id, values in config.calendars.items():
        validate_settings({**config.settings, **values}, prefix=f"calendars.{calendar_id}")
    callback = config.callback_url
    if callback:
        try:
            public_urls.parse(callback, loopback_http=loopback_http)
        except public_urls.UnsafeUrlError as exc:
            raise SettingsProblem("callback_url", str(exc)) from exc
    return settings, dict(config.calendars), callback

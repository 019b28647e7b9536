"""Recall rules without the stack: criteria matching and periods (K1), channels (K2),
escalation delays by category across DST and quiet hours (K3), the daily schedule's
local hour across DST (K1, as the local scheduler fires it)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from local.schedules import next_daily
from notify.dal.conversions import settings_from_json, settings_to_json
from notify.domain.channel_choice import choose_channels
from notify.domain.model import (
    Channel,
    MessageKind,
    Patient,
    PracticeSettings,
    Recall,
    RecallCategory,
    RecallRule,
    recalls_on,
)
from notify.services.recalls import due_day_start, escalation_at

WARSAW = ZoneInfo("Europe/Warsaw")
SETTINGS = PracticeSettings(timezone="Europe/Warsaw", country="PL")
APP = Patient(
    "p",
    "pat",
    phone="601234567",
    email="a@example.com",
    has_app=True,
    push_enabled=True,
    device_token="device-1",
    platform="ios",
)
NO_APP = replace(APP, has_app=False)


def recall(category: RecallCategory, due: datetime, source: str = "criteria") -> Recall:
    return Recall("p", "pat", "checkup", category, due, source=source)


def test_k1_rule_matches_its_appointment_types_case_insensitively_or_any_when_empty():
    rule = RecallRule("checkup", 180, ("Check-up", "Hygiene"))
    assert rule.applies_to("check-up") and rule.applies_to("HYGIENE")
    assert not rule.applies_to("Whitening")
    assert RecallRule("any", 365).applies_to("Whitening")


def test_k1_recall_rules_round_trip_through_stored_settings_and_turn_recalls_on():
    settings = PracticeSettings(
        recall_rules=(
            RecallRule("checkup", 180, ("Check-up",), RecallCategory.HEALTH),
            RecallRule("bloods", 2, (), RecallCategory.RESULT),
        )
    )
    assert settings_from_json(settings_to_json(settings)) == settings
    assert recalls_on(settings) and not recalls_on(PracticeSettings())
    assert recalls_on(PracticeSettings(recalls_enabled=True))


def test_k1_each_visit_manual_send_or_pms_record_is_its_own_period():
    due = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
    first, later = recall(RecallCategory.HEALTH, due), recall(RecallCategory.HEALTH, due + timedelta(days=1))
    assert first.period == "202609010830" and first.period != later.period
    assert first.recall_id == later.recall_id == "pat.checkup"
    assert recall(RecallCategory.HEALTH, due, "manual").recall_id == "pat.checkup.manual"


def test_k2_recall_goes_by_push_when_possible_else_sms_and_email():
    assert choose_channels(MessageKind.RECALL, APP, None, SETTINGS).channels == (Channel.PUSH,)
    decision = choose_channels(MessageKind.RECALL, NO_APP, None, SETTINGS)
    assert decision.channels == (Channel.SMS, Channel.EMAIL)
    sms_only = replace(SETTINGS, recall_email=False)
    decision = choose_channels(MessageKind.RECALL, NO_APP, None, sms_only)
    assert decision.channels == (Channel.SMS,)
    assert (Channel.EMAIL, "practice does not send recalls by email") in decision.skipped


def test_k3_result_recall_escalates_after_2h_health_after_24h():
    sent = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 10:00 in Warsaw
    assert escalation_at(recall(RecallCategory.RESULT, sent), SETTINGS, sent) == sent + timedelta(hours=2)
    assert escalation_at(recall(RecallCategory.HEALTH, sent), SETTINGS, sent) == sent + timedelta(hours=24)


def test_k3_escalation_delays_are_practice_settings_and_respect_quiet_hours():
    late = datetime(2026, 5, 4, 18, 30, tzinfo=UTC)  # 20:30 in Warsaw
    at = escalation_at(recall(RecallCategory.RESULT, late), SETTINGS, late)
    assert at.astimezone(WARSAW).strftime("%d %H:%M") == "05 08:00"
    quick = replace(SETTINGS, recall_result_escalation_hours=1)
    sent = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    assert escalation_at(recall(RecallCategory.RESULT, sent), quick, sent) == sent + timedelta(hours=1)


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from(list(RecallCategory)),
    st.sampled_from(["Europe/Warsaw", "Australia/Sydney", "Europe/Paris"]),
)
def test_k3_escalation_is_an_exact_duration_or_the_end_of_quiet_hours(naive, category, zone):
    sent = naive.replace(tzinfo=UTC)
    settings = PracticeSettings(timezone=zone)
    at = escalation_at(recall(category, sent), settings, sent)
    hours = 2 if category is RecallCategory.RESULT else 24
    if at != sent + timedelta(hours=hours):
        assert at > sent + timedelta(hours=hours)
        assert at.astimezone(ZoneInfo(zone)).strftime("%H:%M") == "08:00"


def test_k1_daily_recall_schedule_keeps_its_local_hour_across_both_dst_changes():
    spring = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Warsaw moves to CEST on 29 March
    firings = []
    moment = spring
    for _ in range(3):
        moment = next_daily("cron(0 10 * * ? *)", "Europe/Warsaw", moment)
        firings.append(moment)
    assert [f.astimezone(WARSAW).strftime("%d %H:%M") for f in firings] == ["29 10:00", "30 10:00", "31 10:00"]
    assert firings[1] - firings[0] == timedelta(hours=24)
    autumn = next_daily("cron(0 10 * * ? *)", "Europe/Warsaw", datetime(2027, 10, 30, 9, 0, tzinfo=UTC))
    assert autumn == datetime(2027, 10, 31, 9, 0, tzinfo=UTC)  # 10:00 CET, 25h later


def test_k1_a_criteria_recall_is_due_on_the_local_day_interval_days_after_the_visit():
    visit_end = datetime(2026, 3, 25, 8, 30, tzinfo=UTC)  # 09:30 CET, before DST
    due = due_day_start(visit_end, 7, "Europe/Warsaw")
    assert due.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M %Z") == "2026-04-01 00:00 CEST"
    sydney = due_day_start(datetime(2026, 4, 1, 23, 0, tzinfo=UTC), 1, "Australia/Sydney")
    assert sydney.astimezone(ZoneInfo("Australia/Sydney")).strftime("%d %H:%M") == "03 00:00"

"""R11: one reminder per number per day for a family's (or one patient's) appointments of
that day, one page and one answer for all of them; per-patient caps on automated
messages."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notify.dal.pacing import reserve
from notify.domain.sms_pacing import ACCOUNT, Lane, Rate

from .conftest import PACED_SMS_WAIT, own_mobile


def _family(s, *members: str, emails: bool = False) -> str:
    """Patients sharing one mobile number of their own (each with an email address of
    their own if `emails`); returns the number in E.164."""
    digits = own_mobile()
    for patient_id in members:
        email = {"email": f"{patient_id}@family.example.com"} if emails else {}
        s.patient(patient_id, phone=digits, name=f"{patient_id.title()} Family", **email)
    return f"+48{digits}"


def _reminders_to(s, number: str) -> list[dict]:
    """The reminder SMS to `number` (the ledger shows a number masked: +48***12)."""
    masked = f"{number[:3]}***{number[-2:]}"
    return [r for r in s.messages(kind="reminder", channel="sms") if r["recipient"] == masked]


def _waiting_pair(s, control, emails: bool = False) -> tuple[str, str, datetime]:
    """Mum (a1, 09:00) and kid (a2, 09:30) share a number; their day's grouped reminder is
    waiting in the paced queue (other practices' SMS hold the routine lane). The number,
    the appointment covered by the group, and the moment the group's SMS can leave."""
    number = _family(s, "mum", "kid", emails=emails)
    s.book("a1", "mum", s.local(5, 9))
    s.book("a2", "kid", s.local(5, 9, 30))
    first_due = s.local(5, 9) - timedelta(hours=48)
    control.advance_to(first_due - timedelta(seconds=1))
    busy = timedelta(hours=2)
    reserve(Rate(ACCOUNT, Lane.ROUTINE, 1.0), int(busy.total_seconds()), control.now())
    control.advance_to(first_due + busy - timedelta(minutes=15))
    (covered,) = [
        r["appointment_id"] for r in control.skipped(s.pms.practice_id) if "sent together" in r["reason"]
    ]
    return number, covered, first_due + busy


def test_r11_a_familys_reminders_of_one_day_go_as_one_message_listing_them(scenario, control, browser):
    s = scenario()
    number = _family(s, "mum", "kid")
    s.book("a1", "mum", s.local(5, 9))
    s.book("a2", "kid", s.local(5, 9, 30))
    control.advance_to(s.local(5, 8))
    (sms,) = s.messages(kind="reminder", channel="sms")
    # The first reminder to fire owns the day's message (D12); each leaves somewhere in its
    # flexible window, so either may be first.
    owner = sms["appointment_id"]
    other = {"a1": "a2", "a2": "a1"}[owner]
    assert "09:00 Mum, 09:30 Kid" in sms["text"]
    assert re.search(r"/v1/g/[A-Za-z0-9_-]{16}", sms["text"]), sms["text"]
    skipped = [r for r in control.skipped(s.pms.practice_id) if r["appointment_id"] == other]
    assert any(f"sent together with {owner}#reminder#v1" in r["reason"] for r in skipped), skipped

    page = browser.http.get(sms["link"], timeout=60)
    assert page.status_code == 200 and "Mum" in page.text and "Kid" in page.text
    assert browser.follow(sms["link"], "confirm").status_code == 200
    for appointment_id in ("a1", "a2"):
        assert s.pms.get(f"appointments/{appointment_id}").json()["appointment"]["status"] == "confirmed"
    assert browser.http.get(sms["link"], timeout=60).status_code == 200  # still there, nothing to confirm
    del number


def test_r11_t1_one_answer_confirms_every_appointment_of_the_grouped_reminder(scenario, control):
    s = scenario()
    number = _family(s, "mum", "kid")
    s.book("a1", "mum", s.local(5, 10))
    s.book("a2", "kid", s.local(5, 10))  # the same moment: both schedules fire together
    control.advance_to(s.local(5, 8))
    (sms,) = s.messages(kind="reminder", channel="sms")
    assert "10:00 Kid, 10:00 Mum" in sms["text"] or "10:00 Mum, 10:00 Kid" in sms["text"]
    control.text(number, "1")
    for appointment_id in ("a1", "a2"):
        assert s.pms.get(f"appointments/{appointment_id}").json()["appointment"]["status"] == "confirmed"
    (answer,) = s.messages(kind="reply")
    assert "10:00, 10:00" in answer["text"]


def test_r11_grouped_reminders_go_once_when_every_delivery_comes_twice(scenario, control):
    s = scenario()
    _family(s, "mum", "kid", "dad")
    s.book("a1", "mum", s.local(5, 9))
    s.book("a2", "kid", s.local(5, 9))
    s.book("a3", "dad", s.local(5, 11))
    control.duplicate_deliveries(True)
    try:
        control.advance_to(s.local(5, 8))
    finally:
        control.duplicate_deliveries(False)
    reminders = s.messages(kind="reminder", channel="sms")
    assert len(reminders) == 1, reminders
    assert {"09:00", "11:00"} <= set(re.findall(r"\d\d:\d\d", reminders[0]["text"]))


def test_r11_a_patient_with_the_app_gets_their_own_reminder_and_another_day_its_own(scenario, control):
    s = scenario()
    number = _family(s, "mum", "kid")
    s.patient(
        "dad",
        name="Dad",
        phone=number,
        has_app=True,
        push_enabled=True,
        platform="android",
        device_token="dev-dad",
    )
    s.book("a1", "mum", s.local(5, 9))
    s.book("a2", "dad", s.local(5, 9, 30), source="app")  # by push: not listed
    s.book("a3", "kid", s.local(6, 9))  # another day: its own message
    control.advance_to(s.local(6, 8))
    sms = {r["appointment_id"]: r for r in s.messages(kind="reminder", channel="sms")}
    (push,) = s.messages(kind="reminder", channel="push")
    assert push["appointment_id"] == "a2"
    assert "Dad" not in sms["a1"]["text"] and "/l/" in sms["a1"]["text"]  # mum's alone, her own page
    assert "Mum" not in sms["a3"]["text"]
    assert s.at(sms["a2"]) > s.at(push), "dad's SMS only as the unanswered push's escalation (C1)"


def test_r11_a_patient_gets_no_more_automated_messages_a_day_than_the_practice_allows(scenario, control):
    s = scenario(reminder_offsets_hours=[30, 26], max_automated_per_day=1)
    s.patient("pat", has_app=True, push_enabled=True, platform="android", device_token="dev-capped")
    start = s.local(4, 20)  # 30h and 26h before: 14:00 and 18:00 the day before, by push
    s.book("a1", "pat", start, source="app")
    control.advance_to(start)
    (sent,) = {r["message_id"]: r for r in s.messages("a1", kind="reminder")}.values()
    assert sent["message_id"] == "a1#reminder#v1#30h"
    reasons = [r["reason"] for r in control.skipped(s.pms.practice_id) if r["appointment_id"] == "a1"]
    assert any("limit of automated messages" in r for r in reasons), reasons
    assert len(s.messages("a1", kind="confirmation")) == 1  # confirmations are exempt


def test_r11_b8_a_grouped_reminder_that_waited_goes_for_the_appointments_still_booked(scenario, control, browser):
    """A day's grouped reminder waits in the paced queue (D17) and its owner's appointment
    is cancelled meanwhile: the SMS still goes, written again for the family's other two
    appointments, with the group's page; an answer confirms those two."""
    s = scenario()
    number = _family(s, "mum", "kid", "dad")
    starts = {"a1": s.local(5, 9), "a2": s.local(5, 9, 30), "a3": s.local(5, 10)}
    for (appointment_id, start), patient_id in zip(starts.items(), ("mum", "kid", "dad"), strict=True):
        s.book(appointment_id, patient_id, start)
    # The reminders are due 48 h before, each leaving within its flexible window. Other
    # practices' SMS hold the account's routine lane from just before the first is due
    # until after the last has fired: the group's SMS waits for its moment.
    first_due = starts["a1"] - timedelta(hours=48)
    control.advance_to(first_due - timedelta(seconds=1))
    busy = timedelta(hours=3)
    lane_free = reserve(Rate(ACCOUNT, Lane.ROUTINE, 1.0), int(busy.total_seconds()), control.now())
    assert lane_free == control.now(), "the lane was already busy"
    control.advance_to(first_due + busy - timedelta(minutes=30))
    assert s.messages(kind="reminder", channel="sms") == []  # waiting
    covered = {
        r["appointment_id"]: r["reason"]
        for r in control.skipped(s.pms.practice_id)
        if "sent together with" in r["reason"]
    }
    assert len(covered) == 2, covered
    owner = (set(starts) - set(covered)).pop()
    assert all(f"sent together with {owner}#reminder#v1" in reason for reason in covered.values())

    s.change("appointment.cancelled", {"appointment_id": owner})
    control.advance_to(first_due + busy + PACED_SMS_WAIT)

    (sms,) = _reminders_to(s, number)
    times = set(re.findall(r"\d\d:\d\d", sms["text"]))
    kept = {a: start.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%H:%M") for a, start in starts.items()}
    assert times == {kept[a] for a in covered}, sms["text"]
    assert re.search(r"/v1/g/[A-Za-z0-9_-]{16}", sms["text"]) and sms["link"] in sms["text"]
    (row,) = [
        m
        for m in s.pms.get(f"appointments/{owner}").json()["messages"]
        if (m["channel"], m["kind"]) == ("sms", "reminder")
    ]
    assert row["status"] == "sent" and "written again" in row["history"][-1]["reason"], row
    # Quota: the parts that left, counted once (C7).
    assert s.sms_used(s.messages(channel="sms")) == sum(r["segments"] for r in s.messages(channel="sms"))

    assert browser.http.get(sms["link"], timeout=60).status_code == 200
    control.text(number, "1")
    statuses = {a: s.pms.get(f"appointments/{a}").json()["appointment"]["status"] for a in starts}
    assert statuses == {owner: "cancelled", **{a: "confirmed" for a in covered}}


def test_r11_b8_a_waiting_group_left_with_one_appointment_goes_as_its_own_reminder(scenario, control):
    """Two appointments grouped, one cancelled while the SMS waits: the other's own
    reminder leaves instead (its own page), its parts counted as they left; the practice
    sees that the cancelled one's reminder was not sent, not "sent together with"."""
    s = scenario()
    number, covered, lane_free = _waiting_pair(s, control)
    s.change("appointment.cancelled", {"appointment_id": covered})
    control.advance_to(lane_free + PACED_SMS_WAIT)

    (sms,) = _reminders_to(s, number)
    kept = {"a1": "a2", "a2": "a1"}[covered]
    assert sms["appointment_id"] == kept and "/v1/l/" in sms["link"] and sms["link"] in sms["text"], sms
    assert "/v1/g/" not in sms["text"]
    assert s.sms_used(s.messages(channel="sms")) == sum(r["segments"] for r in s.messages(channel="sms"))
    (row,) = [
        m
        for m in s.pms.get(f"appointments/{covered}").json()["messages"]
        if (m["channel"], m["kind"]) == ("sms", "reminder")
    ]
    assert row["status"] == "skipped" and "sent together" not in row["reason"], row
    assert f"changed while {kept}#reminder#v1" in row["reason"] and "without it" in row["reason"], row
    before, after = (h["reason"] for h in row["history"][-2:])
    assert before.startswith(f"sent together with {kept}#reminder#v1") and after == row["reason"], row


@pytest.mark.parametrize("who", ["member", "owner"])
def test_r11_b8_a_waiting_group_sms_lists_only_patients_still_at_its_number(scenario, control, aws_requests, who):
    """A day's grouped reminder waits in the paced queue (D17) and a patient's number
    changes meanwhile: nothing about a patient no longer at the number the SMS goes to
    (the owner's, now) is sent there. A member who changed number leaves the text (their
    row says why); an owner who changed number gets their own reminder at the new one."""
    s = scenario()
    number, covered, lane_free = _waiting_pair(s, control)
    owner = {"a1": "a2", "a2": "a1"}[covered]
    patient_of = {"a1": "mum", "a2": "kid"}
    changed = patient_of[{"member": covered, "owner": owner}[who]]
    while (new_digits := own_mobile())[-2:] == number[-2:]:  # told apart by their masked form
        pass
    s.patient(changed, phone=new_digits, name=f"{changed.title()} Family")
    aws_requests.clear()
    control.advance_to(lane_free + PACED_SMS_WAIT)
    # The group's patients are read with the rest of what leaving reads: no read of its own.
    assert not [p for op, p in aws_requests if op == "GetItem" and "PATIENT#" in json.dumps(p)]

    (sms,) = s.messages(kind="reminder", channel="sms")
    assert sms["appointment_id"] == owner and "/v1/g/" not in sms["text"], sms  # its own reminder
    owners_time = {"a1": "09:00", "a2": "09:30"}[owner]
    assert set(re.findall(r"\d\d:\d\d", sms["text"])) == {owners_time}, sms["text"]
    assert _reminders_to(s, number if who == "member" else f"+48{new_digits}") == [sms]
    (row,) = [
        m
        for m in s.pms.get(f"appointments/{covered}").json()["messages"]
        if (m["channel"], m["kind"]) == ("sms", "reminder")
    ]
    assert row["status"] == "skipped" and "number changed" in row["reason"], row


def test_r11_c7_a_group_whose_sms_could_not_go_covers_nobody(scenario, control):
    """At the monthly SMS quota (C7) a family's reminder SMS cannot go. The group then
    covers nobody: each member's reminder goes on its own channels (the kid's by email;
    mum has none, so hers is recorded as stopped by the quota), and no row says "sent
    together with" a message that never left."""
    s = scenario(sms_quota=1, uses_email=True)
    s.within_a_month(7)  # the quota the confirmations fill is the reminders' month's
    digits = own_mobile()
    s.patient("mum", phone=digits, name="Mum Family")
    s.patient("kid", phone=digits, name="Kid Family", email="kid@example.com")
    s.book("a1", "mum", s.local(5, 9))
    s.book("a2", "kid", s.local(5, 9, 30))
    assert s.pms.get("usage").json()["exhausted"]  # the confirmations used the quota up
    control.advance_to(s.local(5, 8))
    reminders = s.messages(kind="reminder")
    assert [(r["appointment_id"], r["channel"]) for r in reminders] == [("a2", "email")], reminders
    reasons = [r["reason"] for r in control.skipped(s.pms.practice_id)]
    assert not [r for r in reasons if "sent together with" in r], reasons
    mum = [m for m in s.pms.get("appointments/a1").json()["messages"] if m["kind"] == "reminder"]
    assert {m["channel"]: m["status"] for m in mum}["sms"] == "skipped"
    assert "monthly SMS quota reached" in {m["channel"]: m["reason"] for m in mum}["sms"]


def _reminder_rows(s, appointment_id: str) -> dict[str, dict]:
    """The appointment's reminder rows in the ledger, by channel."""
    messages = s.pms.get(f"appointments/{appointment_id}").json()["messages"]
    return {m["channel"]: m for m in messages if m["kind"] == "reminder"}


def test_r11_b7_a_waiting_group_sms_stopped_meanwhile_sends_each_reminder_by_email(scenario, control):
    """A family's grouped reminder waits in the paced queue (D17) and the number answers
    STOP meanwhile. The SMS does not leave, and every appointment it carried still gets
    its reminder: by email, as a reminder whose SMS is stopped at once does. The owner's
    email went when its reminder fired (SMS and email); the member's, covered by the group
    until then, goes now, once. No row says "sent together with" an SMS that never left,
    and the group is released."""
    s = scenario(uses_email=True)
    number, covered, lane_free = _waiting_pair(s, control, emails=True)
    owner = {"a1": "a2", "a2": "a1"}[covered]
    assert [r["appointment_id"] for r in s.messages(kind="reminder", channel="email")] == [owner]
    control.text(number, "STOP")
    control.advance_to(lane_free + PACED_SMS_WAIT)

    assert _reminders_to(s, number) == []
    emails = s.messages(kind="reminder", channel="email")
    assert sorted(r["appointment_id"] for r in emails) == ["a1", "a2"], emails  # each once
    member = next(r for r in emails if r["appointment_id"] == covered)
    assert member["recipient"].startswith({"a1": "m", "a2": "k"}[covered]), member  # their own address
    sms = _reminder_rows(s, covered)["sms"]
    assert sms["status"] == "skipped" and "did not leave the paced queue" in sms["reason"], sms
    assert "STOP" in sms["reason"] and f"{owner}#reminder#v1" in sms["reason"], sms
    assert not [r for r in control.skipped(s.pms.practice_id) if "sent together with" in r["reason"]]
    assert _reminder_rows(s, owner)["sms"]["status"] == "skipped"


def test_c5_b7_a_waiting_sms_stopped_with_no_email_to_fall_back_on_is_reported_to_the_practice(scenario, control):
    """As above, but the family has no email: the SMS does not leave and nothing else can
    carry either reminder. The practice hears of each (C5), once, with why."""
    s = scenario(uses_email=True)
    number, covered, lane_free = _waiting_pair(s, control)
    control.text(number, "STOP")
    control.advance_to(lane_free + PACED_SMS_WAIT)

    assert _reminders_to(s, number) == [] and s.messages(kind="reminder") == []
    notices = [n["data"] for n in s.pms.get("notices").json()["notices"] if n["type"] == "patient.unreachable"]
    assert sorted((n["appointment_id"], n["message"]) for n in notices) == [("a1", "reminder"), ("a2", "reminder")]
    for notice in notices:
        assert notice["reasons"]["email"] == "no valid email address", notice
        assert "STOP" in notice["reasons"]["sms"], notice


def test_r11_b8_a_member_left_out_for_a_new_number_gets_their_reminder_by_email(scenario, control):
    """A member of a waiting group changes number (D12): the group's SMS leaves without
    their appointment, and their reminder goes by email instead of being lost; the SMS
    row says why it did not go."""
    s = scenario(uses_email=True)
    number, covered, lane_free = _waiting_pair(s, control, emails=True)
    owner = {"a1": "a2", "a2": "a1"}[covered]
    member = {"a1": "mum", "a2": "kid"}[covered]
    s.patient(member, phone=own_mobile(), name=f"{member.title()} Family", email=f"{member}@family.example.com")
    control.advance_to(lane_free + PACED_SMS_WAIT)

    (sms,) = _reminders_to(s, number)
    assert sms["appointment_id"] == owner and "/v1/g/" not in sms["text"], sms
    emails = s.messages(kind="reminder", channel="email")
    assert sorted(r["appointment_id"] for r in emails) == ["a1", "a2"], emails
    row = _reminder_rows(s, covered)["sms"]
    assert row["status"] == "skipped" and "number changed" in row["reason"], row


# A practice's reminder whose own text (one appointment) is longer than its list of the
# day's appointments (R11): a group left with one appointment is written again longer.
LONG_OWN_REMINDER = (
    '{% block sms %}{% if appointments | default("") %}Reminder {{ day_short }}: {{ appointments }} {{ link }}'
    "{% else %}Reminder: {{ practice }} {{ when_short }}. Please bring your insurance card and a list of"
    " your medicines, arrive ten minutes early, and tell us at the desk if anything about your health"
    " has changed since your last visit. Confirm or cancel: {{ link }}{% endif %}{% endblock %}"
    "{% block push_title %}Appointment reminder{% endblock %}"
    "{% block push_body %}{{ when }} at {{ practice }}.{% endblock %}"
    "{% block email_subject %}Reminder: {{ practice }} on {{ when }}{% endblock %}"
    "{% block email_text %}Hello {{ first_name }}, your appointment at {{ practice }} is on {{ when }}."
    " Confirm: {{ confirm_link }}{% endblock %}"
)


def test_r11_c7_a_waiting_group_written_again_longer_at_the_quota_sends_its_reminder_by_email(scenario, control):
    """The owner's appointment of a waiting group is cancelled, so the SMS is written again
    as the member's own reminder, which is longer; the quota has no parts left for the
    difference. The SMS does not leave (C7), and the member's reminder goes by email, as an
    SMS at the quota falls back to email at once."""
    from ops.practice import configure

    from ..conftest import PRACTICE_DEFAULTS

    settings = dict(PRACTICE_DEFAULTS, uses_email=True, templates={"en/reminder.j2": LONG_OWN_REMINDER})
    s = scenario(**settings)
    s.within_a_month(7)  # the quota filled below is the month the SMS leaves in
    number, covered, lane_free = _waiting_pair(s, control, emails=True)
    owner = {"a1": "a2", "a2": "a1"}[covered]
    used = s.pms.get("usage").json()["sms_used"]
    configure(s.pms.practice_id, **settings, sms_quota=used)  # the group's parts were the last
    s.change("appointment.cancelled", {"appointment_id": owner})
    control.advance_to(lane_free + PACED_SMS_WAIT)

    assert _reminders_to(s, number) == []
    owners = _reminder_rows(s, owner)["sms"]
    assert owners["status"] == "skipped" and owners["reason"] == "monthly SMS quota reached", owners
    emails = s.messages(kind="reminder", channel="email")
    assert sorted(r["appointment_id"] for r in emails) == ["a1", "a2"], emails  # the member's now
    sms = _reminder_rows(s, covered)["sms"]
    assert "did not leave the paced queue (monthly SMS quota reached)" in sms["reason"], sms
    assert s.pms.get("usage").json()["sms_used"] < used  # the group's parts given back

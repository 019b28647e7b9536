"""Helpers for driving the local stack as a PMS, a patient and an operator would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from notify.domain.message_plan import SPREAD
from notify.domain.model import PracticeSettings

APP_PATIENT = {"has_app": True, "push_enabled": True, "device_token": "device-1", "platform": "android"}
# B9: notices go out once a change has settled (the practice setting's default).
NOTICE_DELAY = timedelta(seconds=PracticeSettings().notice_delay_seconds)
# SMS over the account's rate leave from the paced queue at their moment (D17): a burst of
# a few dozen parts has left within this.
PACED_SMS_WAIT = timedelta(seconds=10)


def own_mobile() -> str:
    """A Polish mobile number no other test uses (9 digits, national form). Never one
    ending in 99: the emulated provider reports those as opted out (B7, moto's
    CheckIfPhoneNumberIsOptedOut), which would skip every SMS to it."""
    while (digits := f"60{uuid.uuid4().int % 10_000_000:07d}").endswith("99"):
        pass
    return digits


class Scenario:
    def __init__(self, pms, control, browser) -> None:
        self.pms = pms
        self.control = control
        self.browser = browser

    def local(self, days: int, hour: int = 12, minute: int = 0) -> datetime:
        """`days` after today at hh:mm Warsaw time (keeps messages out of quiet hours)."""
        zone = ZoneInfo("Europe/Warsaw")
        day = self.control.now().astimezone(zone).date() + timedelta(days=days)
        return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)

    def daytime(self) -> None:
        """Move the shared clock on to the next noon, Warsaw time, unless it is between
        09:00 and 15:00 there already: what the test sends at once (a notice, an offer)
        is then never held back by quiet hours (B2), wherever earlier tests left the clock."""
        zone = ZoneInfo("Europe/Warsaw")
        now = self.control.now().astimezone(zone)
        if not time(9) <= now.time() < time(15):
            noon = datetime.combine(now.date(), time(12), tzinfo=zone)
            self.control.advance_to((noon if now < noon else noon + timedelta(days=1)).astimezone(UTC))

    def within_a_month(self, days: int) -> None:
        """Move the shared clock on to the next month's first noon (Warsaw time) unless the
        next `days` days stay within this (UTC) month: SMS quotas count per month (C7), so
        a test that fills one must not see it renewed halfway, wherever earlier tests left
        the clock."""
        now = self.control.now()
        if (now + timedelta(days=days)).strftime("%Y-%m") != now.strftime("%Y-%m"):
            first = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
            zone = ZoneInfo("Europe/Warsaw")
            self.control.advance_to(datetime.combine(first.date(), time(12), tzinfo=zone).astimezone(UTC))

    def patient(self, patient_id: str, **data) -> None:
        data.setdefault("phone", "601 234 567")
        data.setdefault("name", "Jan Kowalski")
        response = self.pms.send("patient.upserted", {"patient_id": patient_id, **data})
        assert response.status_code == 202, response.text

    def book(self, appointment_id: str, patient_id: str, start: datetime, **data):
        """The practice books; returns once the change has settled (the confirmation,
        if any, has gone out)."""
        response = self.pms.send(
            "appointment.created",
            {
                "appointment_id": appointment_id,
                "patient_id": patient_id,
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat(),
                **data,
            },
        )
        assert response.status_code == 202, response.text
        self.settle()
        return response

    def change(self, event_type: str, data: dict, **kwargs):
        """The practice changes an appointment; returns once the change has settled."""
        response = self.pms.send(event_type, data, **kwargs)
        assert response.status_code == 202, response.text
        self.settle()
        return response

    def settle(self) -> None:
        """Let the notice delay pass (B9): notices and offers of the changes go out."""
        self.control.advance(NOTICE_DELAY.total_seconds())

    def messages(self, appointment_id: str | None = None, **match) -> list[dict]:
        rows = self.control.outbox(self.pms.practice_id)
        if appointment_id:
            rows = [r for r in rows if r["appointment_id"] == appointment_id]
        return [r for r in rows if all(r[k] == v for k, v in match.items())]

    def at(self, row: dict) -> datetime:
        return datetime.fromisoformat(row["at"].replace("Z", "+00:00"))

    def due(self, row: dict) -> datetime:
        """When a planned message was due; it went out at `at`, within its flexible window
        (reminders, review requests: up to an hour later, issue 16), checked here."""
        due = datetime.fromisoformat(row["due"].replace("Z", "+00:00"))
        assert due <= self.at(row) <= due + SPREAD, (row["kind"], due, self.at(row))
        return due

    def sms_used(self, rows: list[dict]) -> int:
        """SMS parts the practice API counted in the (UTC) months these rows went out."""
        months = {self.at(r).strftime("%Y-%m") for r in rows if r["channel"] == "sms"}
        return sum(self.pms.get("usage", month=m).json()["sms_used"] for m in months)

    def token(self, appointment_id: str) -> str:
        return self.browser.token_in(self.link(appointment_id))

    def link(self, appointment_id: str) -> str:
        """The patient link of the appointment, as its first message carries it."""
        return self.messages(appointment_id)[0]["link"]

    def tap(self, appointment_id: str, action: str):
        """The patient opens the link from the message and presses a button."""
        return self.browser.follow(self.link(appointment_id), action)


@pytest.fixture
def scenario(new_practice, control, browser):
    """A fresh practice (Warsaw, SMS on, no email) and its helpers."""

    def make(**settings):
        return Scenario(new_practice(**settings), control, browser)

    return make

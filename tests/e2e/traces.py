"""What a data-protection officer reads after an erasure (P1, D19): every item in the
table, every line the handlers logged, and the people whose traces are looked for."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import boto3

PHONE_NATIONAL = "601 987 654"
PHONE_E164 = "+48601987654"


def person(tag: str) -> dict:
    return {
        "name": f"Zofia Erasmus-{tag}",
        "phone": PHONE_NATIONAL,
        "email": f"zofia.{tag}@example.com",
        "has_app": True,
        "push_enabled": True,
        "device_token": f"device-zofia-{tag}",
        "platform": "android",
    }


def scan(table: str) -> list[dict]:
    client = boto3.client("dynamodb")
    items, kwargs = [], {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def kind(item: dict) -> str:
    return item.get("entity", {}).get("S", "?")


def hits(items: list[dict], needles: dict[str, str]) -> dict[str, set[str]]:
    """For each needle that occurs, the item kinds it occurs in."""
    found: dict[str, set[str]] = {}
    for item in items:
        text = json.dumps(item, ensure_ascii=False)
        for label, needle in needles.items():
            if needle in text:
                found.setdefault(label, set()).add(kind(item))
    return found


class LogWindow:
    """The handlers' log lines written from now on (what CloudWatch Logs would keep)."""

    def __init__(self, stack) -> None:
        self.path = stack.log_file
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def lines(self) -> list[str]:
        with self.path.open(encoding="utf-8") as f:
            f.seek(self.start)
            return f.read().splitlines()


def needles_of(s, patient_id: str, person: dict) -> dict[str, str]:
    needles = {
        "name": person["name"],
        "phone (national)": PHONE_NATIONAL,
        "phone (digits)": PHONE_NATIONAL.replace(" ", ""),
        "phone (E.164)": PHONE_E164,
        "email": person["email"],
        "device token": person["device_token"],
        "patient id": patient_id,
    }
    for row in s.messages():
        if row["patient_id"] != patient_id or not row["link"]:
            continue
        token = re.search(r"/[lr]/([A-Za-z0-9_-]+)", row["link"]).group(1)
        needles[f"token {token[:4]}…"] = token
    return needles


def lively_patient(s, control, patient_id: str, person: dict) -> None:
    """Everything a patient leaves behind: a booking pushed (its escalation waiting), a
    request for another time with a note (a notice), a booking cancelled from the link (a
    notice to the practice), a freed-slot offer, a recall, a blocked-number entry."""
    s.patient(patient_id, **person)
    s.patient("keeper", phone="601 111 222", name="Adam Keeper")
    response = s.pms.send(
        "recall.due", {"patient_id": patient_id, "recall_type": "checkup", "due_at": control.now().isoformat()}
    )
    assert response.status_code == 202, response.text
    control.advance_to(s.local(1, 10, 5))  # the recall goes out (no visit booked yet, K1)
    s.book("keep1", "keeper", s.local(4))
    s.book("a1", patient_id, s.local(6), source="app")  # push; escalates to SMS later
    # D22: what the patient writes to the practice is theirs too (kept in the notice).
    asked = s.browser.follow(s.link("a1"), "change-time", note=f"{person['name']}: not on Tuesdays")
    assert asked.status_code == 200, asked.text
    s.book("a2", patient_id, s.local(12), source="app")
    assert s.browser.act(s.token("a2"), "cancel").status_code == 200
    s.change("appointment.cancelled", {"appointment_id": "keep1"})  # slot offered to a1
    assert s.pms.call("PUT", f"blocked-numbers/{PHONE_E164}", {"blocked_recalls": True}).status_code == 200
    control.advance_to(s.local(6) - timedelta(hours=47))  # a1's reminder pushed; its escalation waits

"""A national day, simulated (issue 16): `make scale` / `python -m bench.scale`.

A million appointments across ten thousand practices in nine time zones (Europe, Australia,
North America) go through their whole lifecycle: booking (webhook, stream, planner, the
B9 settle one-shot, the confirmation), reminders (R2/R10, quiet hours B2), push first and the
escalation SMS when a push goes unanswered (C1, Step Functions), link confirmations,
cancellations with freed-slot offers (F1) and review requests after the visit (R7).

The decisions come from the product's own code: `timed_messages` plans every reminder and
review (quiet hours, lead times, the flexible window), `escalation_at` says when an
unanswered push becomes an SMS, `choose_channels` picks push, SMS or email for each patient
and kind, and the SMS parts come from rendering the real templates. What the AWS adapters
would do is counted instead of done, with the per-step request counts the bench measures
on the local stack. A steady state is assumed: every day books, reminds and sees a million
appointments, so every event is folded onto one day's 86,400 seconds (UTC).

It prints, per second of the day, the peaks of schedules created and fired, Lambda
invocations and concurrency, DynamoDB reads and writes, SMS and push sends, against AWS's
default quotas; the delay from due time to send (p50, p99); and the month's cost. Twice:
as the product sent before (every deferred reminder at 08:00:00, SMS as fast as due) and
as it sends now (reminders spread over Scheduler's flexible window, SMS paced to the
account's and each origination number's rate, urgent messages first).
"""

from __future__ import annotations

import argparse
import functools
import math
import multiprocessing
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from functools import cache
from itertools import accumulate
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "layers" / "shared" / "python")]

from notify.domain.channel_choice import choose_channels  # noqa: E402
from notify.domain.escalation import escalation_at  # noqa: E402
from notify.domain.message_plan import timed_messages  # noqa: E402
from notify.domain.model import (  # noqa: E402
    Appointment,
    AppointmentStatus,
    BookingSource,
    Channel,
    MessageKind,
    Patient,
    PlannedMessage,
    PracticeSettings,
)
from notify.domain.sms_pacing import URGENT_KINDS, Lane  # noqa: E402
from notify.domain.sms_pacing import share as lane_share  # noqa: E402

from .costs import PRICES  # noqa: E402

DAY = 86_400
# Where the practices are: zone, country, share of practices, SMS price per part (USD,
# AWS End User Messaging list prices, Nov 2026, rounded), language.
ZONES = (
    ("Europe/London", "GB", 0.14, 0.040, "en"),
    ("Europe/Warsaw", "PL", 0.12, 0.038, "pl"),
    ("Europe/Paris", "FR", 0.12, 0.072, "fr"),
    ("Australia/Sydney", "AU", 0.14, 0.041, "en"),
    ("Australia/Perth", "AU", 0.04, 0.041, "en"),
    ("America/New_York", "US", 0.18, 0.0084, "en"),
    ("America/Chicago", "US", 0.10, 0.0084, "en"),
    ("America/Los_Angeles", "US", 0.10, 0.0084, "en"),
    ("America/Toronto", "CA", 0.06, 0.0075, "en"),
)
# AWS default quotas per account and region (AWS docs, Nov 2026; FACTS.md): what a fresh
# account gets before asking for more.
QUOTAS = {
    "lambda_concurrency": 1_000,  # Lambda concurrent executions
    "scheduler_invocations_per_s": 1_000,  # EventBridge Scheduler target invocations (throttled: delayed)
    "scheduler_creates_per_s": 5_000,  # CreateSchedule requests (older docs: 1,000)
    "dynamodb_reads_per_s": 40_000,  # on-demand table throughput, read request units
    "dynamodb_writes_per_s": 40_000,  # on-demand table throughput, write request units
    "sns_publish_per_s": 9_000,  # SNS Publish (push) outside us-east-1
    "sms_account_parts_per_s": 20,  # SMS message parts per second per account (MPS)
    "sfn_start_per_s": 1_300,  # Step Functions StartExecution, standard, refill rate
}
# Message parts per second per origination identity, by country (long code / sender id;
# US toll-free numbers 3 MPS), and how many identities the deployment has per country.
ORIGINATION_MPS = {"GB": 10, "PL": 10, "FR": 10, "AU": 10, "US": 3, "CA": 3}
# Handler time per invocation (ms, arm64, warm; the local bench's figures scaled to Lambda).
DURATION_MS = {
    "booking_webhook": 60,
    "schedule_reminder": 80,
    "send_push": 150,
    "sms_fallback": 200,
    "patient_links": 60,
    "practice_callback": 100,
}
# DynamoDB request units per step (the bench's lifecycle count on the local stack).
STEP_IO = {
    "webhook": (3, 4),  # reads, writes (a transaction writes 2 items at 2 WRU each)
    "plan": (1, 0),  # + one write per schedule (its planned ledger row)
    "settle": (2, 1),
    "send": (3, 4),
    "sms_fallback": (6, 8),
    "link": (5, 4),
}


PACING_WRITES = 2  # write units per paced SMS (notify/dal/pacing.py)
COUNTRIES = tuple(sorted({c for _, c, *_ in ZONES}))


class Day:
    """Per-second counts of one steady-state day (UTC seconds 0..86,399): every event of
    every appointment is folded onto the day (a day books, reminds and sees as many
    appointments as any other)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = {}
        self.invocations = self.rows["invocations"] = [0.0] * DAY
        self.busy_ms = self.rows["busy_ms"] = [0.0] * DAY
        self.reads = self.rows["dynamodb_reads"] = [0.0] * DAY
        self.writes = self.rows["dynamodb_writes"] = [0.0] * DAY
        # SMS parts due, aggregated: (second, urgent, country index, parts) -> messages.
        self.sms: Counter[tuple[int, bool, int, int]] = Counter()

    def add(self, name: str, at: float, n: float = 1.0) -> None:
        row = self.rows.get(name)
        if row is None:
            row = self.rows[name] = [0.0] * DAY
        row[int(at) % DAY] += n

    def step(self, function: str, step: str, at: float, extra_writes: int = 0) -> None:
        """One invocation of `function` doing `step` (its DynamoDB request units)."""
        second = int(at) % DAY
        reads, writes = STEP_IO[step]
        self.invocations[second] += 1
        self.busy_ms[second] += DURATION_MS[function]
        self.reads[second] += reads
        self.writes[second] += writes + extra_writes

    def text(self, at: float, urgent: bool, country: str, parts: int) -> None:
        self.sms[(int(at) % DAY, urgent, COUNTRIES.index(country), parts)] += 1

    def merge(self, other: Day) -> Day:
        merged = Day()
        for name in {*self.rows, *other.rows}:
            a, b = self.rows.get(name, [0.0] * DAY), other.rows.get(name, [0.0] * DAY)
            merged.rows[name] = [x + y for x, y in zip(a, b, strict=True)]
        merged.sms = self.sms + other.sms
        return merged

    def row(self, name: str) -> list[float]:
        return self.rows.get(name, [0.0] * DAY)

    def total(self, name: str) -> float:
        return sum(self.row(name))

    def peak(self, name: str) -> float:
        return max(self.row(name))


@cache
def _settings(zone: str, country: str) -> PracticeSettings:
    return PracticeSettings(
        timezone=zone, country=country, review_url="https://g.page/r/x", booking_url="https://b.x"
    )


PATIENTS = {
    # What kind of patient: the app with push (C3), a mobile number only, both SMS and email.
    "app": Patient(
        "p",
        "x",
        phone="+48601234567",
        has_app=True,
        push_enabled=True,
        device_token="d",
        platform="android",
        attended_platform_booking=True,
    ),
    "sms": Patient("p", "x", phone="+48601234567"),
    "sms_email": Patient("p", "x", phone="+48601234567", email="anna@example.com"),
}


def _kind_of_patient(r: float) -> str:
    """45% use the app with push on, 35% have a mobile number only, 20% number and email."""
    return "app" if r < 0.45 else "sms" if r < 0.80 else "sms_email"


PHONES = {
    "GB": "+447700900123",
    "PL": "+48601234567",
    "FR": "+33612345678",
    "AU": "+61412345678",
    "US": "+12025550123",
    "CA": "+14165550123",
}


@cache
def _channels(
    kind: MessageKind, patient: str, source: BookingSource, zone: str, country: str
) -> tuple[Channel, ...]:
    """The product's channel choice for this kind of patient (cached: same inputs, same answer)."""
    base = PATIENTS[patient]
    who = Patient(
        base.practice_id,
        base.patient_id,
        phone=PHONES[country],
        email=base.email,
        has_app=base.has_app,
        push_enabled=base.push_enabled,
        device_token=base.device_token,
        platform=base.platform,
        attended_platform_booking=base.attended_platform_booking,
    )
    moment = datetime(2026, 3, 10, tzinfo=UTC)
    appointment = Appointment("p", "a", "x", moment, moment, moment, source=source)
    return choose_channels(kind, who, appointment, _settings(zone, country)).channels


@cache
def _sms_parts(kind: MessageKind, locale: str) -> int:
    """SMS parts of our own template for `kind` in `locale`, rendered by the product's
    templates (bench.segments)."""
    parts = {(row["kind"], row["locale"]): row["segments"] for row in _segment_rows()}
    return int(parts.get((kind.value, locale), 1))  # type: ignore[call-overload]


@cache
def _segment_rows() -> tuple[dict[str, object], ...]:
    from .segments import measure

    return tuple(measure())


def _zone_weights() -> tuple[list[tuple[str, str, float, str]], list[float]]:
    rows = [(z, c, price, lang) for z, c, _, price, lang in ZONES]
    return rows, [share for _, _, share, _, _ in ZONES]


def _lead_hours(rng: random.Random) -> float:
    """Booking lead time: a fifth within 36 hours, a quarter within 3 days, the rest weeks."""
    r = rng.random()
    if r < 0.20:
        return rng.uniform(2, 36)
    if r < 0.45:
        return rng.uniform(36, 72)
    if r < 0.80:
        return rng.uniform(72, 14 * 24)
    return rng.uniform(14 * 24, 60 * 24)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


BASE = datetime(2026, 3, 10, tzinfo=UTC)  # a Tuesday; North America changed clocks on 8 March
DESIGNS = ("before", "after")
TITLES = {
    "before": "before: exact times (08:00:00 after quiet hours, the quarter hours), each SMS sent when due",
    "after": "after: reminders and review requests spread over Scheduler's flexible window, SMS paced",
}


def simulate(
    appointments: int, practices: int, first: int = 0, last: int | None = None, seed: int = 16
) -> dict[str, Day]:
    """Practices `first`..`last` of the country (for a worker process): the events shared
    by both designs in "common", the reminders and what follows them per design."""
    rng = random.Random(seed)
    zones, weights = _zone_weights()
    practice_zone = rng.choices(range(len(zones)), weights, k=practices)
    per_practice = appointments // practices
    days = {"common": Day(), **{d: Day() for d in DESIGNS}}
    common = days["common"]
    for practice in range(first, practices if last is None else last):
        rng.seed(seed * 1_000_003 + practice)
        zone, country, _, locale = zones[practice_zone[practice]]
        settings = _settings(zone, country)
        local = _zone(zone)
        for n in range(per_practice):
            # Visits 08:00-18:00 local on the quarter hour, on one of fourteen days.
            start = datetime.combine(
                (BASE + timedelta(days=rng.randrange(14))).date(), dt_time(8), tzinfo=local
            ) + timedelta(minutes=15 * rng.randrange(40))
            booked = start - timedelta(hours=_lead_hours(rng))
            patient = _kind_of_patient(rng.random())
            if rng.random() < 0.6:  # the practice's staff book, in opening hours
                source = BookingSource.PRACTICE
                at_desk = datetime.combine(booked.astimezone(local).date(), dt_time(8), tzinfo=local)
                booked = min(at_desk + timedelta(minutes=rng.uniform(0, 600)), start - timedelta(hours=1))
            else:  # online, any time of the day
                source = BookingSource.APP if patient == "app" else BookingSource.PORTAL
            appt = Appointment(
                str(practice), str(n), "x", start, start + timedelta(minutes=20), booked, source=source
            )
            t0 = (booked - BASE).total_seconds()
            t_start = (start - BASE).total_seconds()
            # Booking: the webhook, its stream record, the settle one-shot 60 s later (B9).
            common.add("api_requests", t0)
            common.step("booking_webhook", "webhook", t0)
            planned = timed_messages(appt, settings)
            common.step("schedule_reminder", "plan", t0 + 1, extra_writes=len(planned) + 1)
            common.add("schedules_created", t0 + 1, len(planned) + 1)
            common.add("schedules_fired", t0 + 61)
            common.step("schedule_reminder", "settle", t0 + 61)
            _send(common, MessageKind.CONFIRMATION, patient, source, zone, country, locale, t0 + 62)
            cancelled_at = None
            if rng.random() < 0.08:  # cancellations, mostly in the last three days
                cancelled_at = t_start - rng.uniform(0, min(t_start - t0, 3 * DAY))
            # The patient's answer to a reminder: 55% tap a link, 40 minutes on average.
            answers = [rng.expovariate(1 / 2400) if rng.random() < 0.55 else None for _ in planned]
            spreads = [rng.random() for _ in planned]
            for design in DESIGNS:
                _reminders(
                    days[design],
                    design,
                    appt,
                    settings,
                    planned,
                    answers,
                    spreads,
                    cancelled_at,
                    patient,
                    zone,
                    country,
                    locale,
                )
            if cancelled_at is not None:
                common.add("api_requests", cancelled_at)
                common.step("booking_webhook", "webhook", cancelled_at)
                common.step("schedule_reminder", "plan", cancelled_at + 1, extra_writes=1)
                common.add("schedules_created", cancelled_at + 1)
                common.add("schedules_fired", cancelled_at + 61)
                common.step("schedule_reminder", "settle", cancelled_at + 61)
                _send(common, MessageKind.CANCELLATION, patient, source, zone, country, locale, cancelled_at + 62)
                if t_start - cancelled_at > 2 * 3600:  # F1: the freed slot to up to three patients
                    for offer in range(3):
                        who = _kind_of_patient(rng.random())
                        _send(
                            common,
                            MessageKind.SLOT_OFFER,
                            who,
                            BookingSource.PRACTICE,
                            zone,
                            country,
                            locale,
                            cancelled_at + 62 + offer,
                        )
                continue
            # The visit happened: the practice marks it in its system within half an hour of
            # the end (webhook), and a review request follows (R7).
            t_end = t_start + 20 * 60 + rng.uniform(0, 1800)
            common.add("api_requests", t_end)
            common.step("booking_webhook", "webhook", t_end)
            after = _after_visit(zone, country, start, source)
            common.step("schedule_reminder", "plan", t_end + 1, extra_writes=len(after))
            common.add("schedules_created", t_end + 1, len(after))
            spread = rng.random()
            for design in DESIGNS:
                for message in after:
                    due = (message.due_at - BASE).total_seconds()
                    fire = due + (spread * message.window_minutes * 60 if design == "after" else 0)
                    days[design].add("schedules_fired", fire)
                    _send(days[design], MessageKind.REVIEW_REQUEST, patient, source, zone, country, locale, fire)
    return days


@cache
def _after_visit(zone: str, country: str, start: datetime, source: BookingSource) -> tuple[PlannedMessage, ...]:
    """The review request `timed_messages` plans once a visit is attended (R7); it depends
    only on the visit's end, so every visit in the same slot shares the answer."""
    visit = Appointment("p", "a", "x", start, start + timedelta(minutes=20), start, source=source)
    planned = timed_messages(replace(visit, status=AppointmentStatus.ATTENDED), _settings(zone, country))
    return tuple(m for m in planned if m.kind is MessageKind.REVIEW_REQUEST)


def _reminders(
    day: Day,
    design: str,
    appt: Appointment,
    settings: PracticeSettings,
    planned: list[PlannedMessage],
    answers: list[float | None],
    spreads: list[float],
    cancelled_at: float | None,
    patient: str,
    zone: str,
    country: str,
    locale: str,
) -> None:
    """The reminders of one appointment as `design` sends them, with their escalations and
    the patients' answers."""
    for reminder, answer, spread in zip(planned, answers, spreads, strict=True):
        due = (reminder.due_at - BASE).total_seconds()
        if cancelled_at is not None and cancelled_at < due:
            day.add("schedule_deletes", cancelled_at + 1)
            continue
        fire = due + (spread * reminder.window_minutes * 60 if design == "after" else 0)
        day.add("schedules_fired", fire)
        channels = _send(day, MessageKind.REMINDER, patient, appt.source, zone, country, locale, fire)
        if Channel.PUSH in channels:
            check = escalation_at(MessageKind.REMINDER, appt, settings, BASE + timedelta(seconds=fire))
            if check is not None:
                t_check = (check - BASE).total_seconds()
                day.add("sfn_transitions", fire, 4)
                day.add("sfn_starts", fire)
                if answer is None or fire + answer > t_check:
                    day.step("sms_fallback", "sms_fallback", t_check)
                    day.text(t_check, True, country, _sms_parts(MessageKind.REMINDER, locale))
        if answer is not None:
            day.add("api_requests", fire + answer)
            day.step("patient_links", "link", fire + answer)
            day.step("schedule_reminder", "plan", fire + answer + 1)
            return  # confirmed: no further reminder waits for an answer


def _send(
    day: Day,
    kind: MessageKind,
    patient: str,
    source: BookingSource,
    zone: str,
    country: str,
    locale: str,
    at: float,
) -> tuple[Channel, ...]:
    """The sender's invocation and its channels, as `choose_channels` decides."""
    channels = _channels(kind, patient, source, zone, country)
    day.step("send_push", "send", at)
    for channel in channels:
        if channel is Channel.PUSH:
            day.add("push", at)
        elif channel is Channel.EMAIL:
            day.add("email", at)
        else:
            day.text(at, kind in URGENT_KINDS, country, _sms_parts(kind, locale))
    return channels


def _worker(args: tuple[int, int, int, int]) -> dict[str, Day]:
    appointments, practices, first, last = args
    return simulate(appointments, practices, first, last)


def country_day(appointments: int, practices: int, processes: int = 2) -> dict[str, Day]:
    """Both designs' days, the practices split over `processes` worker processes."""
    cuts = [practices * i // processes for i in range(processes + 1)]
    jobs = [(appointments, practices, cuts[i], cuts[i + 1]) for i in range(processes)]
    if processes == 1:
        parts = [_worker(jobs[0])]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_worker, jobs)
    merged = {name: functools.reduce(Day.merge, (p[name] for p in parts)) for name in parts[0]}
    days = {design: merged["common"].merge(merged[design]) for design in DESIGNS}
    # D17: each SMS the product paces reserves its moment on two lanes (the account's and
    # its country identity's): one conditional update each.
    paced = days["after"]
    for (second, _, _, _), count in paced.sms.items():
        paced.rows["dynamodb_writes"][second] += PACING_WRITES * count
    return days


@dataclass
class Delivery:
    """How the day's SMS left: delays from due time (s, message-weighted) per class, and
    how many were lost."""

    rates: str
    delays: dict[bool, Counter[int]] = field(default_factory=lambda: {True: Counter(), False: Counter()})
    lost: int = 0
    sent_parts: list[float] = field(default_factory=lambda: [0.0] * DAY)


def unpaced(sms: Counter[tuple[int, bool, int, int]], account: int) -> Delivery:
    """Before: each SMS is sent when due. Over the account's rate the provider throttles,
    the sender fails, Lambda's async retries try again about 1 and 3 minutes later, then the
    event goes to the on-failure queue (lost to the patient until an operator redrives)."""
    out = Delivery(f"{account} parts/s, unpaced")
    used = [0] * DAY
    for (second, urgent, _, parts), count in sorted(sms.items()):
        left = count
        for wait in (0, 60, 180):
            at = (second + wait) % DAY
            fit = min(left, (account - used[at]) // parts)
            if fit > 0:
                used[at] += fit * parts
                out.sent_parts[at] += fit * parts
                out.delays[urgent][wait] += fit
                left -= fit
        out.lost += left
    return out


def share(urgent: bool) -> float:
    """The part of each rate an urgent or a routine SMS has (the product's lanes)."""
    return lane_share(Lane.URGENT if urgent else Lane.ROUTINE)


def paced(sms: Counter[tuple[int, bool, int, int]], account: int, numbers: dict[str, int]) -> Delivery:
    """After: the product's paced queue (notify/domain/sms_pacing.py, D17). Each rate (the
    account's, each country's origination numbers x parts per second each) is split into
    an urgent lane (URGENT_SHARE of it) and a routine lane; each lane hands out its rate
    each second with a second's burst, oldest first (nothing that matters is reordered),
    and nothing is dropped. Two identical days run back to back and the second is
    measured, so a backlog carried over midnight counts."""
    rates = ", ".join(f"{c} {numbers[c]}x{ORIGINATION_MPS[c]}" for c in COUNTRIES)
    out = Delivery(f"{account} parts/s ({rates})")
    arrivals: dict[int, list[tuple[bool, int, int, int]]] = {}
    for (second, urgent, country, parts), count in sms.items():
        for day in (0, 1):
            arrivals.setdefault(second + day * DAY, []).append((urgent, country, parts, count))
    lanes = {(urgent, c): deque[list[int]]() for urgent in (True, False) for c in range(len(COUNTRIES))}

    account_rate = {urgent: account * share(urgent) for urgent in (True, False)}
    number_rate = {
        (urgent, c): numbers[name] * ORIGINATION_MPS[name] * share(urgent)
        for urgent in (True, False)
        for c, name in enumerate(COUNTRIES)
    }
    # Token buckets of a second's worth, which may go into debt by one message: a 3-part
    # SMS still leaves on a lane of 2 parts per second, and the average rate holds.
    account_tokens = dict(account_rate)
    number_tokens = dict(number_rate)
    second, last_arrival, waiting = 0, max(arrivals, default=0), 0
    while second <= last_arrival or waiting:
        for urgent, country, parts, count in arrivals.get(second, ()):
            lanes[(urgent, country)].append([second, parts, count])
            waiting += count
        if second:
            account_tokens = {u: min(t + account_rate[u], account_rate[u]) for u, t in account_tokens.items()}
            number_tokens = {k: min(t + number_rate[k], number_rate[k]) for k, t in number_tokens.items()}
        for lane_key, lane in lanes.items():
            urgent = lane_key[0]
            while lane and account_tokens[urgent] > 0 and number_tokens[lane_key] > 0:
                batch = lane[0]
                arrived, parts, count = batch
                fit = min(
                    count, math.ceil(account_tokens[urgent] / parts), math.ceil(number_tokens[lane_key] / parts)
                )
                account_tokens[urgent] -= fit * parts
                number_tokens[lane_key] -= fit * parts
                waiting -= fit
                if arrived >= DAY:
                    out.delays[urgent][second - arrived] += fit
                    out.sent_parts[second % DAY] += fit * parts
                if fit == count:
                    lane.popleft()
                else:
                    batch[2] = count - fit
        second += 1
    return out


def needed_rates(sms: Counter[tuple[int, bool, int, int]], within: int = 300) -> tuple[int, dict[str, int]]:
    """The account rate, and origination numbers per country, whose lanes clear the
    busiest `within` seconds' SMS parts of each class within that time (the peak window's
    parts / `within`, over the class's share of the rate)."""
    total = {u: [0] * DAY for u in (True, False)}
    per_country = {(u, c): [0] * DAY for u in (True, False) for c in COUNTRIES}
    for (second, urgent, country, parts), count in sms.items():
        total[urgent][second] += parts * count
        per_country[(urgent, COUNTRIES[country])][second] += parts * count

    def peak_window(row: list[int]) -> int:
        running = list(accumulate(row + row))  # two days: windows across midnight
        return max(running[i + within] - running[i] for i in range(DAY))

    account = max(math.ceil(peak_window(total[u]) / (within * share(u))) for u in (True, False))
    numbers = {
        c: max(
            1,
            *(
                math.ceil(peak_window(per_country[(u, c)]) / (within * ORIGINATION_MPS[c] * share(u)))
                for u in (True, False)
            ),
        )
        for c in COUNTRIES
    }
    return account, numbers


def _percentile(histogram: Counter[int], q: float) -> float:
    total = sum(histogram.values())
    if not total:
        return 0.0
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= q * total:
            return float(value)
    return float(max(histogram))


def _monthly_cost(day: Day) -> dict[str, float]:
    gb_seconds = day.total("busy_ms") / 1000 * 0.5  # 512 MB functions
    price = {c: p for _, c, _, p, _ in ZONES}
    sms = sum(price[COUNTRIES[c]] * parts * n for (_, _, c, parts), n in day.sms.items())
    lines = {
        "lambda": day.total("invocations") * PRICES["lambda_request"]
        + gb_seconds * PRICES["lambda_gb_second_arm"],
        "dynamodb": day.total("dynamodb_reads") * PRICES["dynamodb_read_unit"]
        + day.total("dynamodb_writes") * PRICES["dynamodb_write_unit"],
        "scheduler": day.total("schedules_fired") * PRICES["scheduler_invocation"],
        "step_functions": day.total("sfn_transitions") * PRICES["sfn_transition"],
        "sns_push": day.total("push") * PRICES["sns_push"],
        "ses": day.total("email") * PRICES["ses_email"],
        "sms": sms,
    }
    return {k: v * 30 for k, v in lines.items()}


def _delays(delivery: Delivery) -> str:
    def both(histogram: Counter[int]) -> str:
        return f"p50 {_percentile(histogram, 0.5):,.0f} s, p99 {_percentile(histogram, 0.99):,.0f} s"

    sent = sum(sum(h.values()) for h in delivery.delays.values())
    return (
        f"{sent:,} sent, {delivery.lost:,} lost (dead-lettered); delay from due time: "
        f"urgent {both(delivery.delays[True])}, routine {both(delivery.delays[False])}"
    )


def report(design: str, day: Day) -> Iterator[str]:
    yield TITLES[design]
    concurrency = [ms / 1000 for ms in day.row("busy_ms")]  # Little's law, per second
    sms_due = [0.0] * DAY
    for (second, _, _, parts), count in day.sms.items():
        sms_due[second] += parts * count
    rows = (
        ("API requests/s", day.peak("api_requests"), None),
        ("schedules created/s", day.peak("schedules_created"), QUOTAS["scheduler_creates_per_s"]),
        ("schedules fired/s", day.peak("schedules_fired"), QUOTAS["scheduler_invocations_per_s"]),
        ("Lambda invocations/s", day.peak("invocations"), None),
        ("Lambda concurrency", max(concurrency), QUOTAS["lambda_concurrency"]),
        ("DynamoDB reads/s (RRU)", day.peak("dynamodb_reads"), QUOTAS["dynamodb_reads_per_s"]),
        ("DynamoDB writes/s (WRU)", day.peak("dynamodb_writes"), QUOTAS["dynamodb_writes_per_s"]),
        ("Step Functions starts/s", day.peak("sfn_starts"), QUOTAS["sfn_start_per_s"]),
        ("push sends/s", day.peak("push"), QUOTAS["sns_publish_per_s"]),
        ("SMS parts due/s", max(sms_due), QUOTAS["sms_account_parts_per_s"]),
    )
    for name, peak, quota in rows:
        verdict = ""
        if quota is not None:
            verdict = f"  quota {quota:>6,}  " + (f"OVER x{peak / quota:.1f}" if peak > quota else "within")
        yield f"   {name:26} peak {peak:9,.0f}{verdict}"
    account = QUOTAS["sms_account_parts_per_s"]
    if design == "after":
        need_account, need_numbers = needed_rates(day.sms)
        deliveries = [
            paced(day.sms, account, dict.fromkeys(COUNTRIES, 1)),
            paced(day.sms, need_account, need_numbers),
        ]
    else:
        deliveries = [unpaced(day.sms, account)]
    for delivery in deliveries:
        yield f"   SMS at {delivery.rates}: {_delays(delivery)}"
    cost = _monthly_cost(day)
    aws = sum(v for k, v in cost.items() if k != "sms")
    parts = sum(parts * n for (_, _, _, parts), n in day.sms.items()) * 30
    lines = ", ".join(f"{k} ${v:,.0f}" for k, v in cost.items() if k != "sms")
    yield f"   month: ${aws:,.0f} AWS without SMS ({lines}), plus SMS ${cost['sms']:,.0f} ({parts:,.0f} parts)"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--practices", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"A national day: {args.appointments:,} appointments, {args.practices:,} practices, "
        f"{len(ZONES)} time zones ({', '.join(z for z, *_ in ZONES)}); peaks per second (UTC) "
        "against AWS's default quotas"
    )
    _segment_rows()  # rendered once, before the workers fork
    for design, day in country_day(args.appointments, args.practices, args.processes).items():
        for line in report(design, day):
            print(line)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

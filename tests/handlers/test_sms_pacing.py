"""D17: the SMS rate counters (notify/dal/pacing.py) against the emulator's table: each SMS
takes the next moment of its lane, later reservations get later moments, an idle lane
lets the next SMS leave at once, and concurrent senders never share a moment."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from notify.domain import sms_pacing
from notify.domain.model import MessageKind
from notify.domain.sms_pacing import Lane, Rate

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def lane(local_stack) -> Rate:
    """A lane of its own (counters are deployment-wide: each test names a fresh scope)."""
    return Rate(f"T{uuid.uuid4().hex[:6]}", Lane.ROUTINE, 10.0)


def test_b8_each_sms_takes_the_next_moment_of_its_lane(lane):
    from notify.dal.pacing import reserve

    moments = [reserve(lane, parts, NOW) for parts in (1, 2, 1, 5)]
    assert moments == [NOW + timedelta(seconds=s) for s in (0, 0.1, 0.3, 0.4)]
    # A second later the lane is still busy until 0.9 s: the next SMS takes that moment.
    assert reserve(lane, 1, NOW + timedelta(seconds=0.5)) == NOW + timedelta(seconds=0.9)
    # Once the lane has been idle, an SMS leaves at once.
    later = NOW + timedelta(seconds=5)
    assert reserve(lane, 3, later) == later


def test_b8_concurrent_senders_never_share_a_moment(lane):
    from notify.dal.pacing import reserve

    taken: list[datetime] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def sender() -> None:
        barrier.wait()
        for _ in range(5):
            moment = reserve(lane, 1, NOW)
            with lock:
                taken.append(moment)

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == [NOW + timedelta(seconds=i / 10) for i in range(40)]


def _own(rates: tuple[Rate, ...]) -> tuple[Rate, ...]:
    """The same lanes under counters no other test touches (the account's is shared)."""
    test = uuid.uuid4().hex[:6]
    return tuple(replace(rate, scope=f"{test}-{rate.scope}") for rate in rates)


def test_b8_urgent_sms_do_not_wait_behind_a_routine_backlog(local_stack):
    from notify.dal.pacing import moment

    test = uuid.uuid4().hex[:6]

    def lanes(kind: MessageKind, escalation: bool) -> tuple[Rate, ...]:
        rates = sms_pacing.rates(20, "PL", None, sms_pacing.lane_for(kind, escalation))
        return tuple(replace(rate, scope=f"{test}-{rate.scope}") for rate in rates)

    routine = lanes(MessageKind.REMINDER, False)
    for _ in range(60):  # four seconds of routine parts at 14 a second
        moment(routine, 1, NOW)
    assert moment(routine, 1, NOW) > NOW + timedelta(seconds=3.9)
    for kind, escalation in ((MessageKind.SLOT_OFFER, False), (MessageKind.REMINDER, True)):
        urgent = lanes(kind, escalation)
        assert moment(urgent, 1, NOW) <= NOW + sms_pacing.TOLERANCE


def test_b8_an_identitys_own_rate_paces_its_country(local_stack):
    from notify.dal.pacing import moment

    # A US toll-free number: 3 parts a second, of which the routine lane has 2.1.
    rates = _own(sms_pacing.rates(1000, "US", 3.0, Lane.ROUTINE))
    taken = [moment(rates, 1, NOW) for _ in range(4)]
    assert abs(taken[-1] - (NOW + timedelta(seconds=3 / 2.1))) < timedelta(milliseconds=1)


def test_b8_a_wait_is_held_in_whole_seconds_and_at_most_what_sqs_allows():
    assert sms_pacing.queue_delay(NOW + timedelta(seconds=1.2), NOW) == 2
    assert sms_pacing.queue_delay(NOW, NOW) == 0
    assert sms_pacing.queue_delay(NOW + timedelta(hours=2), NOW) == 900  # SQS: DelaySeconds <= 900
    assert sms_pacing.leaves_now(NOW + sms_pacing.TOLERANCE, NOW)
    assert not sms_pacing.leaves_now(NOW + sms_pacing.TOLERANCE + timedelta(milliseconds=1), NOW)


def test_b8_a_reservation_usually_takes_one_request(lane):
    """Which of the two conditional updates will hold (a busy lane's or an idle one's) is
    guessed from what this process last saw of the lane: one request either way."""
    from notify.dal.pacing import reserve

    from .test_read_cache import _requests

    with _requests() as idle:
        assert reserve(lane, 1, NOW) == NOW
    with _requests() as busy:
        assert reserve(lane, 1, NOW) == NOW + timedelta(seconds=0.1)
    assert idle == busy == {"UpdateItem": 1}

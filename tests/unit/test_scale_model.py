"""Issue 16's national day (bench/scale.py) on a small country: what `make scale` prints is
computed the way these tests check (no timing asserted)."""

from collections import Counter

import pytest

from bench import scale
from notify.domain.sms_pacing import URGENT_SHARE


@pytest.fixture(scope="module")
def days() -> dict[str, scale.Day]:
    return scale.country_day(4_000, 40, processes=1)


def test_b2_spreading_lowers_the_peaks_and_keeps_every_message(days):
    before, after = days["before"], days["after"]
    for series in ("schedules_fired", "invocations", "busy_ms", "dynamodb_writes", "push"):
        assert after.peak(series) < before.peak(series), series
    for series in ("schedules_fired", "invocations", "busy_ms", "push"):
        assert after.total(series) == pytest.approx(before.total(series)), series  # moved, not dropped
    assert sum(after.sms.values()) == sum(before.sms.values())
    # The same writes, and each paced SMS's two lane updates (D17).
    paced = scale.PACING_WRITES * sum(after.sms.values())
    assert after.total("dynamodb_writes") == pytest.approx(before.total("dynamodb_writes") + paced)


def test_c1_paced_sms_loses_nothing_and_urgent_ones_go_first(days):
    sms = days["after"].sms
    slow = scale.paced(sms, 2, dict.fromkeys(scale.COUNTRIES, 1))  # far below the day's need
    sent = sum(sum(h.values()) for h in slow.delays.values())
    assert slow.lost == 0 and sent == sum(sms.values())
    assert max(slow.delays[False]) > 0  # the rate is short: routine messages did wait
    # Ten routine texts due at 09:00:00, an escalation due a second later, at 4 parts a
    # second: the routine lane's 2.8 leave oldest first (3 a second, the third on credit),
    # the escalation leaves at once on the urgent lane (notify/domain/sms_pacing.py).
    assert scale.share(True) == URGENT_SHARE == 0.3
    pl = scale.COUNTRIES.index("PL")
    queue = Counter({(32_400, False, pl, 1): 10, (32_401, True, pl, 1): 1})
    order = scale.paced(queue, 4, dict.fromkeys(scale.COUNTRIES, 1))
    assert order.delays[True] == Counter({0: 1})
    assert order.delays[False] == Counter({0: 3, 1: 3, 2: 3, 3: 1})


def test_c1_unpaced_sms_over_the_account_rate_is_lost_after_the_retries(days):
    sms = days["before"].sms
    delivery = scale.unpaced(sms, 2)
    sent = sum(sum(h.values()) for h in delivery.delays.values())
    assert delivery.lost > 0 and sent + delivery.lost == sum(sms.values())
    assert set(delivery.delays[False]) <= {0, 60, 180}  # Lambda's async retry times


def test_c1_needed_rates_clear_the_busiest_five_minutes_within_five_minutes(days):
    sms = days["after"].sms
    account, numbers = scale.needed_rates(sms)
    delivery = scale.paced(sms, account, numbers)
    assert delivery.lost == 0
    assert scale._percentile(delivery.delays[True], 0.99) <= 300
    busiest = Counter[int]()
    for (second, _, _, parts), count in sms.items():
        busiest[second // 300] += parts * count
    assert account >= max(busiest.values()) / 300

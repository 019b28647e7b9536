"""Keeps bench/ runnable: its pure parts run here; figures are printed by `make bench`."""

from bench import costs, segments


def test_bench_segments_cover_every_kind_and_language():
    rows = segments.measure()
    assert {(r["kind"], r["locale"]) for r in rows} >= {("reminder", "pl"), ("slot_offer", "fr")}
    assert all(r["segments"] >= 1 for r in rows)


def test_bench_cost_lines_and_polling_comparison():
    lines = costs.cost_per_1000({"dynamodb.PutItem": 3, "scheduler.CreateSchedule": 1}, 5, 1.0, 4, 1, 2, 0, 1)
    assert lines["sms"] == 1000 * costs.PRICES["sms"]
    assert costs.polling_cost_per_month(1_000_000) > costs.polling_cost_per_month(10_000)

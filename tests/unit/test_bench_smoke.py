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


def test_bench_names_the_requests_of_rules_the_design_minimum_does_not_count():
    from bench.lifecycle import later_rule

    def key(pk: str, sk: str) -> dict:
        return {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}

    assert later_rule("dynamodb", "UpdateItem", key("OUTCOMES#p", "2026-03-05#default")) == "A1/K6 counters"
    assert later_rule("dynamodb", "GetItem", key("CONSENT#p", "+48601234567")) == "T2 SMS consent"
    caps = {"TransactItems": [{"Update": key("CAP#p#a", "D2026-03-05")}, {"Update": key("CAP#p#a", "W2026-10")}]}
    assert later_rule("dynamodb", "TransactWriteItems", caps) == "R11 caps"
    mixed = {"TransactItems": [{"Update": key("CAP#p#a", "D1")}, {"Put": {"Item": {"pk": {"S": "LEDGER#p#a"}}}}]}
    assert later_rule("dynamodb", "TransactWriteItems", mixed) is None
    endpoint = {**key("PRACTICE#p", "PATIENT#a"), "ExpressionAttributeNames": {"#0": "push_endpoint"}}
    assert later_rule("dynamodb", "UpdateItem", endpoint) == "C3 device endpoint, first push"
    bounced = {**key("PRACTICE#p", "PATIENT#a"), "ExpressionAttributeNames": {"#0": "email_bounced"}}
    assert later_rule("dynamodb", "UpdateItem", bounced) is None
    assert later_rule("kms", "GenerateMac", {}) == "P3 link token MAC"
    assert later_rule("scheduler", "CreateSchedule", {"Name": "p.a.settle.148343f161df"}) == "B9 settle schedule"
    assert later_rule("scheduler", "CreateSchedule", {"Name": "p.a.reminder.v1"}) is None
    assert later_rule("dynamodb", "UpdateItem", key("PRACTICE#p", "APPT#a")) is None

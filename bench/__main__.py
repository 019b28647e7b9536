"""python -m bench [--quick] [--practices N --appointments N]: figures, printed, never asserted."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "layers" / "shared" / "python")]

# The fewest handler requests the design needs per lifecycle, step by step. A send is at
# least: one read (appointment, patient and practice share a partition), the ledger claim
# (B4), the provider call, the ledger result (B5). A webhook: the practice's secret and one
# transaction (appointment + event marker). A timed message: its schedule and its planned
# ledger row (B5), closed when it fires or is withdrawn.
_WEBHOOK, _SEND, _PLAN_ONE = 2, 4, 4  # _PLAN_ONE: settings, schedule, planned row, invoke
MINIMUM_STEPS = {
    "book, confirm push, remind push, escalate SMS, confirm": {
        "webhook": _WEBHOOK,
        "plan (reminder + confirmation invoke)": _PLAN_ONE,
        "confirmation push": _SEND,
        "reminder push + fired row + StartExecution": _SEND + 2,
        "SMS + opt-out check + quota + rate lane (D17) + escalated row": _SEND + 4,
        "link page: token read + page read": 2,
        "link confirm: token read + appointment update": 2,
        "practice callback: delivery recorded": 1,
    },
    "the visit: attended, a prompt to book again planned": {
        "webhook": _WEBHOOK,
        "plan: settings, the prompt's schedule and planned row": 3,
    },
    "book, cancel (practice), offer, accept, move": {
        "book: webhook + plan + confirmation push": _WEBHOOK + _PLAN_ONE + _SEND,
        "cancel: webhook": _WEBHOOK,
        "cancel plan: settings, delete schedule, withdraw row, notice invoke": 4,
        "cancellation notice push": _SEND,
        "freed slot: candidates query, slot item, offer invoke": 3,
        "offer push": _SEND,
        "accept: token read + one transaction (slot taken, appointment moved)": 2,
        "move plan: settings, delete + withdraw, schedule + row, notice invoke": 6,
        "reschedule notice push": _SEND,
        "the slot the move left (F1): candidates query, nobody to offer it to": 1,
        "practice callback: delivery recorded": 1,
    },
}
MINIMUM = {name: sum(steps.values()) for name, steps in MINIMUM_STEPS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--practices", type=int, default=10)
    parser.add_argument("--appointments", type=int, default=300)
    parser.add_argument("--cancel-ratio", type=float, default=0.1)
    args = parser.parse_args()
    from . import cold_start, costs, lifecycle, segments

    print("1. Cold start: handler import in a fresh interpreter (median), bytecode against bytecode")
    for row in cold_start.measure(runs=3 if args.quick else 7):
        source = f"{row['source_ms']:7.0f} ms from source" if row["source_ms"] else " " * 22
        print(
            f"   {row['function']:36} {row['bytecode_ms']:5.0f} ms precompiled ({source}), "
            f"x{row['ratio_to_boto3']:.2f} of import boto3 precompiled"
        )

    layer = cold_start.layer_bytecode(runs=3 if args.quick else 5)
    if layer is None:
        print("   built layer: no bytecode to measure (no Python for the runtime here)")
    else:
        print(
            f"   built layer on Python {layer['python']} (its pure-Python imports): "
            f"{layer['bytecode_ms']:.0f} ms with the .pyc it ships, "
            f"{layer['source_ms']:.0f} ms from source as Lambda would without them"
        )

    print("\n3. SMS segments per kind and language (GSM-7 unless noted)")
    for row in segments.measure():
        extra = (
            f", {row['segments_transliterated']} with transliteration" if "segments_transliterated" in row else ""
        )
        print(f"   {row['kind']:17} {row['locale']}  {row['chars']:4} chars  {row['segments']} part(s){extra}")

    from local.stack import LocalStack

    stack = LocalStack(datetime(2026, 3, 2, 7, 0, tzinfo=UTC)).start()
    try:
        print("\n2. AWS requests per appointment lifecycle (handlers only), and cost")
        with lifecycle.outcome_writes() as a1_writes:
            results = lifecycle.lifecycles(stack)
        for name, result in results.items():
            calls = result["calls"]
            total = sum(calls.values())
            print(
                f"   {name}: {total} requests (design minimum {MINIMUM[name]}, x{total / MINIMUM[name]:.2f}), "
                f"{sum(result['invocations'].values())} invocations"
            )
            for op, n in sorted(calls.items(), key=lambda kv: -kv[1]):
                print(f"      {n:3}  {op}")
            invocations = result["invocations"]
            print(
                "      by function: "
                + ", ".join(
                    f"{function} {n} ({invocations[function]} invocation{'s' * (invocations[function] > 1)})"
                    for function, n in sorted(result["by_function"].items(), key=lambda kv: -kv[1])
                )
            )
            print("      the minimum: " + ", ".join(f"{step} {n}" for step, n in MINIMUM_STEPS[name].items()))
            later = result["later_rules"]
            if later:
                rest = total - sum(later.values())
                print(
                    f"      for rules specified after the minimum was counted: {sum(later.values())} ("
                    + ", ".join(f"{rule} {n}" for rule, n in sorted(later.items(), key=lambda kv: -kv[1]))
                    + f"); the other {rest} requests are x{rest / MINIMUM[name]:.2f} of the minimum"
                )
            sms = 1 if "escalate" in name else 0
            pushes = calls.get("sns.Publish", 0) - sms
            lines = costs.cost_per_1000(
                calls,
                sum(result["invocations"].values()),
                result["handler_seconds"] * 0.5,
                4 if sms else 0,
                sms,
                pushes,
                calls.get("sesv2.SendEmail", 0),
                1,
            )
            no_sms = sum(v for k, v in lines.items() if k != "sms")
            print(
                f"      per 1,000 appointments: ${no_sms:.3f} AWS without SMS "
                f"({', '.join(f'{k} ${v:.3f}' for k, v in lines.items() if k != 'sms')}),"
                f" plus SMS ${lines['sms']:.2f}"
            )
        from notify.dal.outcomes import FEATURES as OUTCOME_FEATURES  # the stack named the table

        per_lifecycle = a1_writes[lifecycle.UPDATES] / len(results)
        a1_cost = per_lifecycle * 1000 * costs.PRICES["dynamodb_write_unit"]
        print(
            f"   A1 and K6 counters: {per_lifecycle:.1f} updates per lifecycle, one per step that counts "
            f"({', '.join(f'{k} {v}' for k, v in sorted(a1_writes.items()) if k != lifecycle.UPDATES)}): "
            f"${a1_cost:.4f} per 1,000 appointments (1 WRU each, included above), plus "
            f"{len(OUTCOME_FEATURES)} CloudWatch metrics for the dashboard, "
            f"${len(OUTCOME_FEATURES) * costs.PRICES['custom_metric_month']:.2f} a month whatever the volume"
        )
        print("   Polling design (scan every minute), per month, for comparison:")
        for size in (10_000, 100_000, 1_000_000):
            print(f"      {size:>9,} items: ${costs.polling_cost_per_month(size):,.2f}/month")

        print("\n4. Local throughput")
        scale = (2, 20) if args.quick else (args.practices, args.appointments)
        week = lifecycle.busy_week(stack, scale[0], scale[1], args.cancel_ratio)
        print(
            f"   {week['appointments']} appointments / {week['practices']} practices: "
            f"{week['appointments_per_s']:.1f} appointments/s through webhook -> stream -> "
            f"schedules; a simulated week in {week['week_s']:.1f}s; {week['messages']} "
            f"messages; peak RSS {week['peak_rss_mb']:.0f} MB"
        )
        ceiling = lifecycle.emulator_rate(stack, week["intake_calls"])
        print(
            f"   AWS requests during intake: {week['intake_requests_per_s']:.0f}/s "
            f"({week['requests_per_appointment']:.1f} per appointment); the emulator alone answers "
            f"{ceiling['requests_per_s']:.0f}/s for the same mix ({', '.join(ceiling['ops'])}: "
            f"{ceiling['replayed_share']:.0%} of the requests), so the pipeline runs at "
            f"{week['intake_requests_per_s'] / ceiling['requests_per_s']:.0%} of the emulator's rate"
        )
        own = week["intake_sdk_requests_per_cpu_s"]
        print(
            f"   the handlers' own requests, timed where they ran (thread CPU in the SDK and the emulator): "
            f"{own:.0f}/s, so the pipeline runs at {week['intake_requests_per_s'] / own:.0%} of the "
            "emulator's rate for exactly its requests"
        )
        per_appointment, rate = week["lifetime_requests_per_appointment"], week["lifetime_requests_per_s"]
        own_week = week["lifetime_sdk_requests_per_cpu_s"]
        big = 5000 * per_appointment
        print(
            f"   the whole week: {per_appointment:.1f} requests per appointment at {rate:.0f}/s, "
            f"{rate / own_week:.0%} of the emulator's rate for exactly its requests ({own_week:.0f}/s); "
            f"a 5,000-appointment week is about {big:,.0f} requests: {big / rate / 60:.1f} min at this rate, "
            f"at least {big / own_week / 60:.1f} min with no pipeline at all (the emulator answering exactly "
            f"these requests), {big / ceiling['requests_per_s'] / 60:.1f} min for replayed requests like them"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

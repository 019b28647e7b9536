"""AWS list prices (eu-central-1 / us-east-1 public prices, November 2026, USD) and the
cost per 1,000 appointments computed from counted requests."""

from __future__ import annotations

PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm": 0.0000133334,
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand WRU
    "dynamodb_read_unit": 0.125 / 1e6,  # on-demand RRU (strongly consistent = 1 per 4 KB)
    "scheduler_invocation": 1.00 / 1e6,
    "sfn_transition": 0.025 / 1000,
    "sns_push": 0.50 / 1e6,
    "sms": 0.05,  # stated per-part price (PL/FR mobile ~0.04-0.08)
    "ses_email": 0.10 / 1000,
    "sqs_request": 0.40 / 1e6,
    "custom_metric_month": 0.30,  # CloudWatch, first 10,000 metrics
}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
DYNAMODB_READS = {"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"}


def cost_per_1000(
    calls: dict[str, int],
    invocations: int,
    gb_seconds: float,
    transitions: int,
    sms_parts: int,
    pushes: int,
    emails: int,
    appointments: int,
) -> dict[str, float]:
    """USD per 1,000 appointments, by line, SMS separate."""
    scale = 1000 / appointments
    writes = sum(n for op, n in calls.items() if op.split(".")[-1] in DYNAMODB_WRITES)
    # TransactWriteItems costs 2 WRU per item; our transactions write ~3 items.
    transact = sum(n for op, n in calls.items() if op.endswith("TransactWriteItems"))
    write_units = writes - transact + transact * 2 * 3
    reads = sum(n for op, n in calls.items() if op.split(".")[-1] in DYNAMODB_READS)
    schedules = sum(n for op, n in calls.items() if op.endswith("CreateSchedule"))
    lines = {
        "lambda": (invocations * PRICES["lambda_request"] + gb_seconds * PRICES["lambda_gb_second_arm"]),
        "dynamodb": write_units * PRICES["dynamodb_write_unit"] + reads * PRICES["dynamodb_read_unit"],
        "scheduler": schedules * PRICES["scheduler_invocation"],
        "step_functions": transitions * PRICES["sfn_transition"],
        "sns_push": pushes * PRICES["sns_push"],
        "ses": emails * PRICES["ses_email"],
        "sms": sms_parts * PRICES["sms"],
    }
    return {k: v * scale for k, v in lines.items()}


def polling_cost_per_month(table_items: int, item_kb: float = 1.0) -> float:
    """A design that scans the table every minute for due reminders (eventually consistent:
    0.5 RRU per 4 KB), per month, USD."""
    scans = 60 * 24 * 30
    read_units = scans * table_items * max(item_kb / 4, 1 / 4) * 0.5
    return read_units * PRICES["dynamodb_read_unit"] + scans * PRICES["lambda_request"]

"""Least privilege, mirrored on the local stack: a handler's AWS call that its role (as
synthesised) does not allow fails as it would on AWS, so the e2e suite proves that every
permission the code needs is granted."""

from __future__ import annotations

import pytest

from local.iam import AccessDenied
from local.runtime import InvocationError, LambdaContext


def test_security_a_call_outside_the_role_is_refused_like_aws_refuses_it(local_stack):
    table = local_stack.table_name
    book = local_stack.iam
    book.check("practice_callback", "dynamodb", "GetItem", {"TableName": table})
    for function, service, operation, params in (
        ("practice_callback", "dynamodb", "PutItem", {"TableName": table}),
        ("patient_links", "dynamodb", "Scan", {"TableName": table}),
        ("delivery_events", "dynamodb", "Query", {"TableName": table, "IndexName": "gsi2"}),
        ("booking_webhook", "sns", "Publish", {"PhoneNumber": "+48601234567"}),
        ("recall_sweep", "scheduler", "CreateSchedule", {"Name": "x", "GroupName": "g"}),
    ):
        with pytest.raises(AccessDenied):
            book.check(function, service, operation, params)


def test_security_a_transaction_needs_the_actions_of_each_item_it_writes(local_stack):
    table = local_stack.table_name
    write = {"TransactItems": [{"Put": {"TableName": table}}, {"Update": {"TableName": table}}]}
    local_stack.iam.check("patient_links", "dynamodb", "TransactWriteItems", write)
    with pytest.raises(AccessDenied):
        local_stack.iam.check(
            "patient_links",
            "dynamodb",
            "TransactWriteItems",
            {"TransactItems": [{"Delete": {"TableName": table}}]},
        )


def test_security_a_handler_whose_role_lacks_a_call_fails_on_the_local_stack(local_stack):
    """The check runs inside real invocations: practice_callback may only read."""
    runtime = local_stack.runtime
    original = runtime.functions["practice_callback"].handler
    runtime._handlers["practice_callback"] = _writes_to_the_table
    try:
        with pytest.raises(InvocationError, match="AccessDenied"):
            runtime.invoke("practice_callback", {})
    finally:
        runtime._handlers.pop("practice_callback")
    assert runtime.functions["practice_callback"].handler == original


def _writes_to_the_table(event: dict, context: LambdaContext) -> None:
    from notify.dal.models import QuotaItem

    QuotaItem("QUOTA#x", "2026-01").save()

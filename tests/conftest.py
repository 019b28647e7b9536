"""Shared fixtures. The local stack (moto server + router + HTTP API) is started once per
session; every test onboards its own practice, so tests never see each other's data.

The shared package reads TABLE_NAME once at import, so it is set here, before any test
module imports it, to the name the local deploy gives the table (no synth needed: unit
tests run on a fresh clone).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest

from local.deploy import LOCAL_TABLE

os.environ.setdefault("TABLE_NAME", LOCAL_TABLE)
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")

STACK_START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Warsaw / Paris


@pytest.fixture(scope="session")
def local_stack():
    from local.stack import LocalStack

    stack = LocalStack(STACK_START).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def control(local_stack):
    from local.client import LocalControl

    return LocalControl(local_stack.url)


@pytest.fixture
def browser(local_stack):
    from local.client import PatientBrowser

    return PatientBrowser(local_stack.api_url)


# What a test's practice is unless the test says otherwise (ops.practice.configure replaces
# every setting: a test changing one passes these with it).
PRACTICE_DEFAULTS = dict(
    name="Harbour Dental",
    timezone="Europe/Warsaw",
    country="PL",
    locale="en",
    booking_url="https://book.example.com/harbour",
)


@pytest.fixture
def new_practice(local_stack, control):
    """Onboard a fresh practice and return its PMS client: new_practice(**settings)."""
    from local.client import PracticeClient
    from ops.practice import onboard

    def make(**settings):
        practice_id = f"p-{uuid.uuid4().hex[:10]}"
        credentials = onboard(practice_id, **{**PRACTICE_DEFAULTS, **settings})
        return PracticeClient(local_stack.api_url, credentials, control)

    return make


@pytest.fixture
def aws_requests(monkeypatch):
    """Every AWS request made in this process while the test runs (the local stack runs
    the handlers here): a list of (operation, params), in order."""
    import botocore.client

    made: list[tuple[str, dict]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation, params):
        made.append((operation, params))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return made

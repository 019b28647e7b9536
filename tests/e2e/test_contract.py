"""The practice API answers what its OpenAPI document says, checked by schemathesis
against the local stack: every request signed as a practice's system would (a requests
auth hook), every response checked for status, content type, headers and body schema.
`make test` runs a short pass (SCHEMATHESIS_EXAMPLES, 15 per operation), `make soak` a long one."""

from __future__ import annotations

import os
import uuid
from collections import Counter

import pytest
import requests
import schemathesis
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from hypothesis import HealthCheck, settings
from schemathesis import checks

from local.client import PracticeClient, sign_request, standard_webhook_headers
from notify.api.openapi import document

# The response-conformance checks. Left out: the ones that resend a request without its
# signature (our auth hook signs every request it sends, resends included; refusal of
# unsigned and altered requests is proven by the P4 tests), negative-data rejection
# (unknown fields are ignored by design: forward compatible), positive-data acceptance
# (valid ids of things that do not exist get 404), and unsupported methods (API Gateway
# answers 403 for a method a resource does not have, before our code).
RESPONSE_CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
schema = schemathesis.openapi.from_dict(document())
# The coverage phase (every boundary of every parameter, ~1,500 cases) runs in make soak.
schema.config.phases.coverage.enabled = os.environ.get("SCHEMATHESIS_COVERAGE") == "1"
SEEN: Counter[str] = Counter()


class Signed(requests.auth.AuthBase):
    """Signs each request the way docs/api.md shows: Standard Webhooks for event posts,
    RFC 9421 for everything else."""

    def __init__(self, pms: PracticeClient) -> None:
        self.pms = pms

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        now = self.pms.control.now()
        path = (request.path_url or "").split("?")[0]
        if path.endswith("/openapi.json"):
            return request
        try:
            if request.method == "POST" and path.endswith("/events"):
                body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
                headers = standard_webhook_headers(self.pms.secret, f"msg_{uuid.uuid4().hex}", now, body)
                request.headers.update(headers)
            else:
                sign_request(request, self.pms.credentials.key_id, self.pms.secret, now)
        except (UnicodeError, ValueError, HTTPMessageSignaturesException):
            pass  # a request no practice could sign (non-UTF-8 body, odd query): goes unsigned
        return request


@pytest.fixture(scope="module")
def practice(local_stack, control):
    from ops.practice import onboard

    practice_id = f"p-contract-{uuid.uuid4().hex[:6]}"
    credentials = onboard(practice_id, name="Contract Dental", timezone="Europe/Warsaw", country="PL")
    yield PracticeClient(local_stack.api_url, credentials, control)
    print(f"\nschemathesis: {sum(SEEN.values())} signed cases, by status {dict(sorted(SEEN.items()))}")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_contract_every_answer_is_the_documented_one(case, practice, local_stack):
    if case.path_parameters and "practice_id" in case.path_parameters:
        case.path_parameters["practice_id"] = practice.practice_id
    session = requests.Session()
    session.auth = Signed(practice)
    response = case.call(base_url=local_stack.api_url, session=session)
    SEEN[str(response.status_code)] += 1
    assert response.status_code < 500, response.text
    case.validate_response(response, checks=RESPONSE_CONFORMANCE)

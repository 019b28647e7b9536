"""The practice API's contract: committed, current, complete, in our words."""

from __future__ import annotations

import json
import re
from pathlib import Path

from notify.api.openapi import document
from notify.events import EVENT_TYPES
from ops.openapi import render

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"


def test_contract_the_committed_document_is_what_the_code_generates():
    assert COMMITTED.read_text(encoding="utf-8") == render(), "run `make openapi` and commit docs/api/openapi.json"


def test_contract_documents_signing_errors_and_every_event_type():
    doc = document()
    assert set(doc["components"]["securitySchemes"]) == {"StandardWebhooks", "HttpMessageSignatures"}
    events = doc["paths"]["/practices/{practice_id}/events"]["post"]
    assert events["security"] == [{"StandardWebhooks": []}]
    assert set(events["requestBody"]["content"]["application/json"]["examples"]) == EVENT_TYPES
    assert events["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith("EventAnswer")
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if path == "/openapi.json":
                continue
            assert {"401", "422"} <= set(operation["responses"]), (path, method)
            error = {"$ref": "#/components/schemas/Error"}
            for code, response in operation["responses"].items():
                if code >= "400":
                    assert response["content"]["application/json"]["schema"] == error, (path, code)
    assert "HTTPValidationError" not in json.dumps(doc)


def test_contract_carries_no_internal_rule_ids():
    text = json.dumps(document())
    assert re.findall(r"\b[RCFKBTPAO][0-9]{1,2}\b", text) == []

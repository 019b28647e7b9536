"""HTTP clients of the local stack, as a practice's PMS, a patient and a developer use it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests


def _checked(response: requests.Response, doing: str) -> requests.Response:
    """The control API's answer; when the emulator itself failed, its error and traceback
    (the body says them) in the exception, not only the status."""
    if response.status_code >= 500:
        raise RuntimeError(f"the local stack failed {doing}: {response.text}")
    response.raise_for_status()
    return response


def _session() -> requests.Session:
    """A keep-alive session to the local stack on 127.0.0.1, which no proxy, .netrc or CA
    bundle setting concerns: requests reads them from the environment on every request
    otherwise (the local stack's environment holds every function's variables), a fifth
    of a local client's time per request."""
    session = requests.Session()
    session.trust_env = False
    return session


class LocalControl:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.http = _session()

    def now(self) -> datetime:
        raw = self.http.get(f"{self.base}/_local/clock", timeout=30).json()["now"]
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))

    def advance(self, seconds: float = 0) -> dict[str, Any]:
        return self._clock({"advance": seconds})

    def advance_to(self, moment: datetime) -> dict[str, Any]:
        return self._clock({"set": moment.isoformat()})

    def _clock(self, spec: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"{self.base}/_local/clock", json=spec, timeout=600)
        result: dict[str, Any] = _checked(response, "moving its clock").json()
        return result

    def outbox(self, practice_id: str | None = None) -> list[dict[str, Any]]:
        params = {"practice_id": practice_id} if practice_id else None
        return self.http.get(f"{self.base}/_local/outbox", params=params, timeout=30).json()

    def text(self, sender: str, text: str, to: str = "+48732000000", message_id: str | None = None) -> str:
        """A patient texts our number (T1); returns the inbound message id."""
        body: dict[str, Any] = {"from": sender, "text": text, "to": to}
        if message_id:
            body["id"] = message_id
        response = _checked(self.http.post(f"{self.base}/_local/sms", json=body, timeout=120), "taking a text")
        return str(response.json()["inbound_message_id"])

    def schedules(self, prefix: str = "") -> list[str]:
        """Names of the one-shot schedules still pending (the product's plan)."""
        return self.http.get(f"{self.base}/_local/schedules", params={"prefix": prefix}, timeout=30).json()

    def duplicate_deliveries(self, on: bool) -> dict[str, Any]:
        """B4 drill: deliver every stream batch, firing, invoke and task twice."""
        return self.faults(duplicate_deliveries=on)

    def faults(
        self,
        duplicate_deliveries: bool = False,
        rates: dict[str, float] | None = None,
        down: list[str] | None = None,
    ) -> dict[str, Any]:
        """B4 / B8 drills; called with no argument, turns every fault off."""
        response = self.http.post(
            f"{self.base}/_local/faults",
            json={"duplicate_deliveries": duplicate_deliveries, "rates": rates or {}, "down": down or []},
            timeout=30,
        )
        return _checked(response, "setting its faults").json()

    def sms_received(self, number: str) -> list[str]:
        """Every text the emulated provider took for `number`: counts real sends."""
        return self.http.get(f"{self.base}/_local/sms-received", params={"to": number}, timeout=30).json()

    def skipped(self, practice_id: str | None = None) -> list[dict[str, Any]]:
        params = {"practice_id": practice_id} if practice_id else None
        return self.http.get(f"{self.base}/_local/skipped", params=params, timeout=30).json()


class PracticeClient:
    """A PMS, as a practice's developers would write it with published libraries: events
    signed with Standard Webhooks (`standardwebhooks`), every other request with RFC 9421
    HTTP Message Signatures (`http-message-signatures`), both with the practice's API key.
    `base_url` is the API's URL (the stage's, as the deploy outputs it). The PMS reads the
    local stack's (virtual) time through its control API, or through `clock` when it runs
    in the stack's own process (the bench: no round trip per event)."""

    def __init__(
        self,
        base_url: str,
        credentials: Any,
        control: LocalControl,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.credentials = credentials
        self.practice_id: str = credentials.practice_id
        self.control = control
        self.now = clock or control.now
        self.http = _session()

    @property
    def secret(self) -> str:
        return self.credentials.api_secret

    def send(
        self,
        event_type: str,
        data: dict[str, Any],
        event_id: str | None = None,
        occurred_at: datetime | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        sequence: int | None = None,
    ) -> requests.Response:
        now = self.now()
        event = {
            "event_id": event_id or uuid.uuid4().hex,
            "type": event_type,
            "occurred_at": (occurred_at or now).isoformat(),
            "data": data,
        }
        if sequence is not None:
            event["sequence"] = sequence
        body = json.dumps(event, default=str).encode()
        sent_at = datetime.fromtimestamp(timestamp, tz=UTC) if timestamp is not None else now
        headers = {
            "Content-Type": "application/json",
            **standard_webhook_headers(secret or self.secret, f"msg_{event['event_id']}", sent_at, body),
        }
        return self.http.post(
            f"{self.base}/practices/{self.practice_id}/events", data=body, headers=headers, timeout=60
        )

    def get(self, path: str, **params: str) -> requests.Response:
        """A signed read of the practice API."""
        return self.call("GET", path, params=params or None)

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        key_id: str | None = None,
        secret: str | None = None,
    ) -> requests.Response:
        """A signed call of the practice API (RFC 9421 over method, path, query, body)."""
        prepared = self.prepare(method, path, body, params)
        sign_request(prepared, key_id or self.credentials.key_id, secret or self.secret, self.now())
        return self.http.send(prepared, timeout=60)

    def prepare(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> requests.PreparedRequest:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return requests.Request(
            method,
            f"{self.base}/practices/{self.practice_id}/{path.lstrip('/')}",
            data=json.dumps(body).encode() if body is not None else None,
            params=params,
            headers=headers,
        ).prepare()


def standard_webhook_headers(secret: str, message_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, from the reference library."""
    from standardwebhooks.webhooks import Webhook

    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body.decode()),
    }


def sign_request(
    prepared: requests.PreparedRequest,
    key_id: str,
    secret: str,
    created: datetime,
    components: tuple[str, ...] | None = None,
) -> None:
    """RFC 9421 with hmac-sha256, from the http-message-signatures library: method, path,
    each query parameter and (for a body) its Content-Digest. `components` overrides what
    is covered (tests of signatures that cover too little)."""
    import base64
    from urllib.parse import parse_qs, urlsplit

    from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

    key = base64.b64decode(secret.removeprefix("whsec_"))

    class Keys(HTTPSignatureKeyResolver):
        def resolve_private_key(self, key_id: str) -> bytes:
            return key

        def resolve_public_key(self, key_id: str) -> bytes:
            return key

    query = parse_qs(urlsplit(prepared.url or "").query, keep_blank_values=True)
    components = components or ("@method", "@path", *(f'"@query-param";name="{name}"' for name in query))
    body = prepared.body if isinstance(prepared.body, bytes) else None
    HTTPMessageSigner(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=Keys()).sign(
        prepared, key_id=key_id, created=created, covered_component_ids=components, body=body
    )


class _Forms(HTMLParser):
    """The forms of a page: (method, action, {field: value}) as a browser would send them
    untouched: buttons' and inputs' values, checked radios only, textareas' text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self.links: list[str] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "form":
            self.forms.append((values.get("method", "get").upper(), values.get("action", ""), {}))
        elif tag in ("button", "input") and self.forms and values.get("name"):
            if values.get("type") in ("radio", "checkbox") and "checked" not in values:
                return
            self.forms[-1][2][values["name"]] = values.get("value", "")
        elif tag == "textarea" and self.forms and values.get("name"):
            self._textarea = values["name"]
            self.forms[-1][2][self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.forms[-1][2][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


class PatientBrowser:
    """A patient tapping a link from a message. `base_url` is the API's URL (the stage's,
    as in the links we send)."""

    LINK = re.compile(r"https?://[^\s]+/l/([A-Za-z0-9_-]{16})")

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.http = _session()

    @classmethod
    def token_in(cls, text: str) -> str:
        match = cls.LINK.search(text or "")
        if not match:
            raise ValueError("no patient link in message")
        return match.group(1)

    RECALL_LINK = re.compile(r"https?://[^\s]+/r/([A-Za-z0-9_-]{16})")

    @classmethod
    def recall_token_in(cls, text: str) -> str:
        match = cls.RECALL_LINK.search(text or "")
        if not match:
            raise ValueError("no recall link in message")
        return match.group(1)

    def open_recall(self, token: str) -> requests.Response:
        """Tap a recall link: the recall's page (opening it records nothing, K2)."""
        return self.http.get(f"{self.base}/r/{token}", timeout=60)

    def book_from_recall(self, token: str) -> requests.Response:
        """Tap a recall link and press "book": the booking page comes back as a redirect
        (not followed)."""
        return self.submit(self.open_recall(token), "/book")

    def open(self, token: str) -> requests.Response:
        return self.http.get(f"{self.base}/l/{token}", timeout=60)

    def act(self, token: str, action: str) -> requests.Response:
        """Open the page of `token` and press the button of `action`."""
        return self.follow(f"{self.base}/l/{token}", action)

    def follow(self, link: str, action: str, **fields: str) -> requests.Response:
        """Open a link exactly as a message carries it and press the button of `action`,
        as a browser submits a form: to the form's action resolved against the page's
        own URL (a link or form that loses the stage fails here as it would on AWS).
        `fields`: what the patient filled in (a choice, a text) before pressing it."""
        page = self.http.get(link, timeout=60)
        if page.status_code != 200:
            return page
        return self.submit(page, f"/{action}", **fields)

    def post(self, token: str, action: str) -> requests.Response:
        """POST an action straight to its URL, as a page left open in another tab would
        (the page now might not offer it any more)."""
        return self.http.post(f"{self.base}/l/{token}/{action}", data={"action": action}, timeout=60)

    def submit(self, page: requests.Response, action_suffix: str, **filled: str) -> requests.Response:
        """Submit the page's form whose action ends with `action_suffix`, with the fields
        `filled` in; or, for a button that is a link to a page asking once more (cancel)
        or to a form (another time), open it and submit that page's form."""
        parser = _Forms()
        parser.feed(page.text)
        if not any(a.split("?")[0].endswith(action_suffix) for _, a, _ in parser.forms):
            for href in parser.links:
                if href.split("?")[0].endswith(action_suffix):
                    asked = self.http.get(urljoin(page.url, href), timeout=60, allow_redirects=False)
                    return self.submit(asked, action_suffix, **filled) if asked.status_code == 200 else asked
        for method, action, fields in parser.forms:
            if action.split("?")[0].endswith(action_suffix):
                target = urljoin(page.url, action)
                fields = {**fields, **filled}
                if method == "POST":
                    return self.http.post(target, data=fields, timeout=60, allow_redirects=False)
                return self.http.get(target, params=fields, timeout=60, allow_redirects=False)
        raise LookupError(f"no form for {action_suffix} on the page ({page.url})")

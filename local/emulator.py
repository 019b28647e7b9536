"""moto in server mode, with WSGI layers where our product needs AWS's behaviour:

- DynamoDB requests are serialised (one lock around them): real DynamoDB serialises
  writes per item, moto does not, and "first acceptance wins" must be provable locally;
- the B8 drills' fault injection (throttling, a service down);
- SES's mailbox simulator (bounce and complaint addresses), which moto lacks.

What is changed inside moto itself is in moto_patches.py, each change checked at start.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import uuid
from typing import Any

from botocore.exceptions import ClientError
from moto.core.utils import convert_to_flask_response
from moto.moto_api import recorder
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import BackendRequest, DomainDispatcherApplication, create_backend_app
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from .moto_patches import DYNAMODB_LOCK

try:  # moto >= 5.2.5 keeps underscored header names (S3 metadata only; not used by us)
    from moto.moto_server.werkzeug_app import MotoRequestHandler as _RequestHandler
except ImportError:
    _RequestHandler = None  # werkzeug's own


class DirectDispatcher(DomainDispatcherApplication):
    """Patch 14 (see moto_patches.py): moto's view for a request, called directly. moto's
    server hands each request to a Flask app per service, whose view (moto's
    `convert_to_flask_response`) records the request and calls the service's handler with
    it; Flask around that view (a request context, its dispatch, CORS headers, debug-mode
    form checks) took a tenth of the emulator's time in a busy week. Here the view's own
    steps run on the same request class, matched on the same URL map; anything else
    (moto's own API, a path no service claims) still goes through Flask."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        app = self.get_application(environ)
        try:
            endpoint, _ = app.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return app(environ, start_response)
        view = app.view_functions.get(endpoint)
        if not isinstance(view, convert_to_flask_response):
            return app(environ, start_response)
        request = BackendRequest(environ)
        recorder._record_request(request)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        return response(environ, start_response)


class SerialisedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, like per-item serialisation."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = DYNAMODB_LOCK

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the body inside the lock: the response is produced lazily.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class FaultInjector:
    """WSGI middleware for the B8 drills: a share of the calls to a service fail with a
    throttling error (HTTP 400 ThrottlingException for JSON services, 503 otherwise),
    or every call fails while the service is `down`.

    Only what the handlers call is affected: DynamoDB tables (not streams, which the
    router reads), Scheduler, SNS, SES. Botocore retries these like on AWS.
    """

    SERVICES = ("dynamodb", "scheduler", "sns", "ses")

    def __init__(self, app: Any, seed: int = 7) -> None:
        self.app = app
        self.rates: dict[str, float] = {}
        self.down: set[str] = set()
        self.injected: dict[str, int] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    @staticmethod
    def service_of(environ: dict[str, Any]) -> str | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDBStreams"):
            return None
        match = re.search(
            r"Credential=[^/]+/\d+/[^/]+/([a-z0-9-]+)/aws4_request", environ.get("HTTP_AUTHORIZATION", "")
        )
        return match.group(1) if match else None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        service = self.service_of(environ)
        if service in self.SERVICES:
            with self._lock:
                fail = service in self.down or self._random.random() < self.rates.get(service, 0)
                if fail:
                    self.injected[service] = self.injected.get(service, 0) + 1
            if fail:
                environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                return self._refuse(environ, service, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def _refuse(environ: dict[str, Any], service: str, start_response: Any) -> list[bytes]:
        """The error AWS would answer, request id included (Step Functions' service
        integrations read it; without one moto fails the state with States.Runtime)."""
        request_id = str(uuid.uuid4())
        if environ.get("HTTP_X_AMZ_TARGET") or service == "scheduler":
            status, content_type = "400 Bad Request", "application/x-amz-json-1.0"
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded (injected)"}).encode()
        elif service == "sns":  # the query protocol: an XML error document
            status, content_type = "503 Service Unavailable", "text/xml"
            body = (
                "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
                "<Message>Service Unavailable (injected)</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            ).encode()
        else:
            status, content_type = "503 Service Unavailable", "application/json"
            body = json.dumps({"message": "Service Unavailable (injected)"}).encode()
        start_response(
            status,
            [
                ("Content-Type", content_type),
                ("x-amzn-RequestId", request_id),
                ("x-amzn-ErrorType", "ThrottlingException" if status.startswith("400") else "ServiceUnavailable"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]


class SesMailboxSimulator:
    """WSGI middleware: SES's mailbox simulator, which moto lacks. An email sent through
    a configuration set to `bounce@simulator.amazonses.com` or
    `complaint@simulator.amazonses.com` yields the bounce / complaint event AWS would
    publish to the configuration set's event destination (queued here; the router
    publishes it to the destination topic)."""

    ADDRESSES = {"bounce@simulator.amazonses.com": "Bounce", "complaint@simulator.amazonses.com": "Complaint"}

    def __init__(self, app: Any) -> None:
        self.app = app
        self.events: list[tuple[str, dict[str, Any]]] = []  # (configuration set, event)
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/v2/email/outbound-emails" or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        response = b"".join(self.app(environ, start_response))
        try:
            request, message_id = json.loads(body), json.loads(response)["MessageId"]
        except (ValueError, KeyError):
            return [response]
        recipients = request.get("Destination", {}).get("ToAddresses", [])
        tags = {t["Name"]: [t["Value"]] for t in request.get("EmailTags", [])}
        for address in recipients:
            kind = self.ADDRESSES.get(address.lower())
            if kind and request.get("ConfigurationSetName"):
                with self._lock:
                    self.events.append(
                        (request["ConfigurationSetName"], self._event(kind, address, message_id, tags))
                    )
        return [response]

    @staticmethod
    def _event(kind: str, address: str, message_id: str, tags: dict[str, list[str]]) -> dict[str, Any]:
        mail = {"messageId": message_id, "destination": [address], "tags": tags}
        if kind == "Bounce":
            return {
                "eventType": kind,
                "mail": mail,
                "bounce": {
                    "bounceType": "Permanent",
                    "bounceSubType": "General",
                    "bouncedRecipients": [{"emailAddress": address}],
                },
            }
        return {
            "eventType": kind,
            "mail": mail,
            "complaint": {"complainedRecipients": [{"emailAddress": address}]},
        }

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            events, self.events = self.events, []
        return events


class MotoServer(ThreadedMotoServer):
    app: Any = None  # the outermost WSGI layer, which the in-process transport calls
    faults: FaultInjector | None = None
    mailbox_simulator: SesMailboxSimulator | None = None

    def _server_entry(self) -> None:
        app = SerialisedDynamoDB(DirectDispatcher(create_backend_app))
        self.mailbox_simulator = app = SesMailboxSimulator(app)
        self.faults = app = FaultInjector(app)
        self.app = app
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=_RequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


class InProcessTransport:
    """The AWS SDK's calls from this process reach the emulator's WSGI app directly, without
    the loopback socket, as moto's own in-process mock does. botocore still builds, signs
    and parses every request as over the network, and each request passes every WSGI layer
    above (serialised DynamoDB, faults, the mailbox simulator); what goes is the socket, the
    HTTP parsing on both sides and a thread switch per request (30% of a busy week's time).
    A client in another process (`make serve`) and every call to the product's own API
    (practices, patients, operators, the control API) still go over HTTP."""

    def __init__(self, app: Any, base_url: str) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")

    def answer(self, request: Any) -> Any:
        """botocore's prepared request -> botocore's response, through the WSGI app."""
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        body = request.body.read() if hasattr(request.body, "read") else request.body
        path, _, query = request.url[len(self.base_url) :].partition("?")
        environ = EnvironBuilder(
            path=path or "/",
            base_url=self.base_url,
            query_string=query,
            method=request.method,
            headers=[(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()],
            data=body or b"",
        ).get_environ()
        chunks, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        return AWSResponse(request.url, int(status.split()[0]), dict(headers), MockRawResponse(b"".join(chunks)))

    def install(self) -> None:
        import botocore.httpsession

        session_class: Any = botocore.httpsession.URLLib3Session
        original = getattr(session_class.send, "__wrapped__", session_class.send)
        transport = self

        def send(session: Any, request: Any) -> Any:
            if request.url.startswith(transport.base_url + "/"):
                return transport.answer(request)
            return original(session, request)

        send.__wrapped__ = original  # type: ignore[attr-defined]
        session_class.send = send

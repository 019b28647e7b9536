"""moto in server mode, made to behave like AWS where our product depends on it.

- DynamoDB requests are serialised (one lock around them): real DynamoDB serialises
  writes per item, moto does not, and "first acceptance wins" must be provable locally.
- Lambda invokes run the real handler in-process (moto would need Docker); async
  invokes are queued for the router, which retries them like Lambda does.
- Step Functions Wait states and retry intervals wait on the virtual clock instead of
  sleeping real time.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, timedelta
from types import SimpleNamespace
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl as retrier_module
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from werkzeug.serving import make_server

from .clock import VirtualClock

# Held while moto handles a DynamoDB request; the router takes it to trim streams.
DYNAMODB_LOCK = threading.Lock()


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
    faults: FaultInjector | None = None
    mailbox_simulator: SesMailboxSimulator | None = None

    def _server_entry(self) -> None:
        app = SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
        self.mailbox_simulator = app = SesMailboxSimulator(app)
        self.faults = app = FaultInjector(app)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


def patch_lambda(invoke_sync: Callable[[str, dict], Any], enqueue_async: Callable[[str, dict], None]) -> None:
    """Route moto's Lambda invokes (direct, Step Functions tasks) to the real handlers."""

    def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        # An API Invoke carries its HTTP headers; SNS's delivery to a subscribed function
        # comes without any, and SNS invokes Lambda asynchronously.
        if not request_headers or request_headers.get("X-Amz-Invocation-Type") == "Event":
            enqueue_async(self.function_name, event)
            return b""
        try:
            result = invoke_sync(self.function_name, event)
        except Exception as exc:  # the handler's error becomes Lambda's error payload
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = getattr(exc, "payload", {"errorType": type(exc).__name__, "errorMessage": str(exc)})
            return json.dumps(payload).encode()
        return json.dumps(result).encode()

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]


def patch_waits(clock: VirtualClock) -> None:
    """Wait states, and the pause between a task's retries, block on the virtual clock
    (moto would sleep real seconds)."""

    def eval_body(self: WaitFunction, env: Any) -> None:
        if isinstance(self, Timestamp):
            self.string.eval(env=env)
            raw = env.stack.pop()
            parsed = Timestamp._from_timestamp_string(raw)
            if parsed is None:
                env.stack.append(raw)
                seconds = Timestamp._get_wait_seconds(self, env)  # raises the ASL failure
                target = clock.now() + timedelta(seconds=seconds)
            else:
                target = parsed.replace(tzinfo=UTC)
        else:
            target = clock.now() + timedelta(seconds=self._get_wait_seconds(env=env))
        clock.wait_until(target, still_running=env.is_running)

    WaitFunction._eval_body = eval_body  # type: ignore[method-assign]

    def sleep_on_clock(seconds: float) -> None:
        clock.wait_until(clock.now() + timedelta(seconds=seconds))

    # The retrier's module calls time.sleep(interval); give it a `time` of its own.
    retrier_module.time = SimpleNamespace(sleep=sleep_on_clock)  # type: ignore[attr-defined]


def _snapshot_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any]:
    """The items a transaction touches, deep-copied (None where absent)."""
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        raw = op.get("Key") or op.get("Item") or {}
        hash_key = DynamoType(raw[table.hash_key_attr])
        range_key = (
            DynamoType(raw[table.range_key_attr]) if table.range_key_attr and table.range_key_attr in raw else None
        )
        bucket = table.items.get(hash_key, {}) if table.range_key_attr else table.items
        current = bucket.get(range_key if table.range_key_attr else hash_key)
        saved.append((table, hash_key, range_key, copy.deepcopy(current)))
    return saved


def _restore(saved: list[Any], streams: dict[Any, int]) -> None:
    """Put the touched items and the stream lengths back as they were."""
    for table, hash_key, range_key, item in reversed(saved):
        if table.range_key_attr:
            bucket = table.items[hash_key]
            if item is None:
                bucket.pop(range_key, None)
                if not bucket:
                    table.items.pop(hash_key, None)
            else:
                bucket[range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    for shard, length in streams.items():
        del shard.items[length:]


def patch_transactions() -> None:
    """Make moto's TransactWriteItems cost O(items touched), not O(table).

    Runs only inside a DynamoDB request, i.e. under DYNAMODB_LOCK, which is what makes
    swapping the module's `copy` for the duration of the call safe.

    moto deep-copies every table a transaction names (items and stream included) so that
    it can roll back; on a table that keeps growing, each write becomes slower than the
    last. This snapshot keeps only the touched items and the stream length, and restores
    them if the transaction is cancelled: the same all-or-nothing outcome.
    """
    import copy

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import copy as moto_copy_module

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_local_patch", False):
        return

    from moto.dynamodb.models.table import Table

    class _NoTableCopy:
        """Stands in for the `copy` module inside moto's module: tables are not copied
        (our snapshot covers them), everything else is copied as before."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _snapshot_items(self, transact_items)
        streams = {t.stream_shard: len(t.stream_shard.items) for t, *_ in saved if t.stream_shard is not None}
        module = original.__globals__
        module["copy"] = _NoTableCopy
        try:
            original(self, transact_items)
        except Exception:
            _restore(saved, streams)
            raise
        finally:
            module["copy"] = moto_copy_module

    transact_write_items._local_patch = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

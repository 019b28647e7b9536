"""moto in server mode, made to behave like AWS where our product depends on it.

- DynamoDB requests are serialised (one lock around them): real DynamoDB serialises
  writes per item, moto does not, and "first acceptance wins" must be provable locally.
- Lambda invokes run the real handler in-process (moto would need Docker); async
  invokes are queued for the router, which retries them like Lambda does.
- Step Functions Wait states wait on the virtual clock instead of sleeping real time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from werkzeug.serving import make_server

from .clock import VirtualClock


class SerialisedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, like per-item serialisation."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the body inside the lock: the response is produced lazily.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class MotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app = SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


def patch_lambda(invoke_sync: Callable[[str, dict], Any],
                 enqueue_async: Callable[[str, dict], None]) -> None:
    """Route moto's Lambda invokes (direct, Step Functions tasks) to the real handlers."""

    def invoke(self: LambdaFunction, body: Any, request_headers: Any,
               response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        if request_headers.get("X-Amz-Invocation-Type") == "Event":
            enqueue_async(self.function_name, event)
            return b""
        try:
            result = invoke_sync(self.function_name, event)
        except Exception as exc:  # the handler's error becomes Lambda's error payload
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = getattr(exc, "payload", {"errorType": type(exc).__name__,
                                               "errorMessage": str(exc)})
            return json.dumps(payload).encode()
        return json.dumps(result).encode()

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]


def patch_waits(clock: VirtualClock) -> None:
    """Wait states block on the virtual clock (moto would sleep real seconds)."""

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

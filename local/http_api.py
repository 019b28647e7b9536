"""The API Gateway routes of the template, served over HTTP as REST proxy events, and the
local control API (/_local/...): clock, outbox, settle.

Routes are served where API Gateway serves them: under the stage (`/v1/l/{token}`, as on
the default URL), and optionally under custom-domain base paths (`/notify/l/{token}`),
with the event's `path` and `requestContext.path` shaped as API Gateway shapes them for
each. A link or form that forgets the stage gets API Gateway's 403, here as there."""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from .clock import VirtualClock
from .deploy import ACCOUNT, Route
from .outbox import outbox, skipped, sms_received
from .router import EventRouter
from .runtime import InvocationError, LambdaRuntime


def _compile(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


FORBIDDEN = json.dumps({"message": "Missing Authentication Token"})


class LocalApi:
    def __init__(
        self,
        routes: list[Route],
        runtime: LambdaRuntime,
        router: EventRouter,
        clock: VirtualClock,
        stage: str,
        base_paths: dict[str, str] | None = None,
    ) -> None:
        # Literal segments win over parameters, as in API Gateway.
        self.routes = sorted(((r, _compile(r.path)) for r in routes), key=lambda pair: pair[0].path.count("{"))
        self.runtime = runtime
        self._environments: dict[str, threading.Lock] = {}  # per function, as one Lambda environment
        self.router = router
        self.clock = clock
        self.stage = stage
        # Custom domain emulation: base path -> stage (API Gateway strips the base path
        # for routing but leaves it in the event's `path`).
        self.base_paths = base_paths or {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if not request.path.startswith("/_local/"):
            return self._proxy(request)(environ, start_response)
        try:
            response = self._control(request)
        except Exception as exc:  # the emulator itself failed: say how, to the caller
            response = self._json(
                {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc().splitlines()[-12:]},
                500,
            )
        return response(environ, start_response)

    # -- API Gateway -------------------------------------------------------------------------
    def _split(self, path: str) -> tuple[str, str, str] | None:
        """(stage, path within the API, the event's `path`) of a request, or None."""
        first, _, rest = path.lstrip("/").partition("/")
        if first == self.stage:
            return self.stage, f"/{rest}", f"/{rest}"
        if first in self.base_paths:
            return self.base_paths[first], f"/{rest}", path
        return None

    def _proxy(self, request: Request) -> Response:
        split = self._split(request.path)
        if split is None:
            return Response(FORBIDDEN, 403, content_type="application/json")
        stage, api_path, event_path = split
        for route, pattern in self.routes:
            match = pattern.match(api_path)
            if match and route.method == request.method:
                break
        else:
            return Response(FORBIDDEN, 403, content_type="application/json")
        body = request.get_data()
        try:
            text = body.decode("utf-8")
            encoded = False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        headers = {k: v for k, v in request.headers.items()}
        query = {k: v for k, v in request.args.items()} or None
        event = {
            "resource": route.path,
            "path": event_path,
            "httpMethod": request.method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: request.args.getlist(k) for k in request.args} or None,
            "pathParameters": match.groupdict() or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": request.method,
                "path": request.path,
                "stage": stage,
                "accountId": ACCOUNT,
                "apiId": "local",
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(self.clock.now().timestamp() * 1000),
                "identity": {"sourceIp": request.remote_addr or "127.0.0.1"},
            },
            "body": text or None,
            "isBase64Encoded": encoded,
        }
        # Lambda runs one request at a time in an execution environment (concurrent ones get
        # environments of their own); here one process holds each function's module state,
        # and powertools' resolver keeps a request's event on its class and its route in a
        # dict every request clears when it ends. So each function takes its requests one at
        # a time here: concurrent requests in one process read each other's event.
        environment = self._environments.setdefault(route.function, threading.Lock())
        try:
            with environment:
                result = self.runtime.invoke(route.function, event)
        except InvocationError:
            # What CloudWatch Logs would show the operator: the function's traceback.
            sys.stderr.write(
                f"{route.function} failed:\n{self.runtime.tracebacks[-1] if self.runtime.tracebacks else ''}"
            )
            return Response(json.dumps({"message": "Internal server error"}), 502, content_type="application/json")
        # On AWS the stream is processed within a second; locally, before we answer.
        self.router.settle()
        out_headers = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(values)
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload
        return Response(data, result.get("statusCode", 200), headers=out_headers)

    # -- control -------------------------------------------------------------------------------
    @property
    def _reads(self) -> dict[str, Any]:
        """The control API's plain reads, by path."""
        return {
            "/schedules": lambda args: self.router.pending_schedule_names(args.get("prefix", "")),
            "/outbox": lambda args: outbox(args.get("practice_id")),
            "/skipped": lambda args: skipped(args.get("practice_id")),
            # What the emulated provider took for one number: proves "never twice" beyond
            # the ledger (a second send of one ledger row would show here).
            "/sms-received": lambda args: sms_received(args.get("to", "")),
        }

    def _control(self, request: Request) -> Response:
        path = request.path.removeprefix("/_local")
        if path == "/clock" and request.method == "GET":
            return self._json({"now": self._iso(self.clock.now())})
        if path == "/clock" and request.method == "POST":
            spec = request.get_json(force=True, silent=True) or {}
            started = time.perf_counter()
            if "set" in spec:
                target = datetime.fromisoformat(spec["set"].replace("Z", "+00:00"))
            else:
                target = self.clock.now() + timedelta(seconds=float(spec.get("advance", 0)))
            if target < self.clock.now():
                return self._json({"error": "the local clock never goes back"}, 400)
            self.router.advance_to(target)
            return self._json(
                {
                    "now": self._iso(self.clock.now()),
                    "wall_ms": round((time.perf_counter() - started) * 1000, 1),
                    "pending_schedules": self.router.pending_schedules(),
                    "stats": self.router.stats,
                }
            )
        if path == "/faults" and request.method == "POST":
            # B4/B8 drills: {"duplicate_deliveries": bool, "rates": {"sns": 0.1},
            # "down": ["ses"]}; an empty body turns every fault off.
            spec = request.get_json(force=True, silent=True) or {}
            self.router.duplicate_deliveries = bool(spec.get("duplicate_deliveries", False))
            faults = self.router.faults
            if faults is not None:
                faults.rates = {k: float(v) for k, v in (spec.get("rates") or {}).items()}
                faults.down = set(spec.get("down") or ())
            return self._json(
                {
                    "duplicate_deliveries": self.router.duplicate_deliveries,
                    "injected": dict(faults.injected) if faults else {},
                    "stats": self.router.stats,
                }
            )
        if path == "/sms" and request.method == "POST":
            # T1: {"from": "+48601234567", "text": "1", "to": "+48732000000", "id": optional}
            spec = request.get_json(force=True, silent=True) or {}
            inbound = self.router.receive_sms(
                str(spec.get("from", "")), str(spec.get("text", "")), str(spec.get("to", "")), spec.get("id")
            )
            return self._json({"inbound_message_id": inbound})
        read = self._reads.get(path)
        if read is not None:
            return self._json(read(request.args))
        if path == "/health":
            return self._json(
                {"ok": True, "now": self._iso(self.clock.now()), "errors": self.runtime.errors[-20:]}
            )
        return self._json({"error": "unknown control route"}, 404)

    @staticmethod
    def _iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def _json(body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body, default=str), status, content_type="application/json")

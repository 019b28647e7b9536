"""Runs a function's real handler in-process, as the Lambda service would call it."""

from __future__ import annotations

import importlib
import os
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .deploy import Deployment, FunctionSpec
from .iam import ACTING


@dataclass
class LambdaContext:
    """The attributes powertools reads from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class InvocationError(Exception):
    def __init__(self, function: str, payload: dict[str, Any]) -> None:
        super().__init__(f"{function}: {payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


class LambdaRuntime:
    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        self.functions = functions
        self._handlers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = {name: 0 for name in functions}
        self.errors: list[str] = []
        self.tracebacks: list[str] = []
        self._install_environment()

    def _install_environment(self) -> None:
        """One process hosts every function: their variables must agree where they meet."""
        merged: dict[str, str] = {}
        for spec in self.functions.values():
            for key, value in spec.environment.items():
                if merged.get(key, value) != value:
                    raise RuntimeError(f"functions disagree on {key}")
                merged[key] = value
        os.environ.update(merged)

    def _handler(self, name: str) -> Any:
        with self._lock:
            if name not in self._handlers:
                module_name, attr = self.functions[name].handler.rsplit(".", 1)
                self._handlers[name] = getattr(importlib.import_module(module_name), attr)
            return self._handlers[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Call the handler; raise InvocationError with Lambda's error payload on failure."""
        spec = self.functions[name]
        handler = self._handler(name)
        context = LambdaContext(name, 512, spec.arn, str(uuid.uuid4()))
        self.invocations[name] = self.invocations.get(name, 0) + 1
        acting, ACTING.function = getattr(ACTING, "function", None), name
        try:
            return handler(event, context)
        except Exception as exc:
            self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            self.tracebacks.append(traceback.format_exc())
            raise InvocationError(
                name,
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exception(exc)[-3:],
                },
            ) from exc
        finally:
            ACTING.function = acting


DeadLetter = Callable[[str, dict[str, Any]], None]


class Deliverer:
    """What each of AWS's delivery mechanisms on the local stack (stream polling, async
    invokes) works with: the deployment, the runtime that runs handlers, where failed
    work goes, the shared counters, and the B4 drill's switch."""

    def __init__(
        self, deployment: Deployment, runtime: LambdaRuntime, dead_letter: DeadLetter, stats: dict[str, int]
    ) -> None:
        self.d = deployment
        self.runtime = runtime
        self.dead_letter = dead_letter
        self.stats = stats
        self.duplicate_deliveries = False

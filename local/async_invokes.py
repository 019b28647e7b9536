"""Lambda's asynchronous invocation queue: retries (the function's setting, 2 by default),
then the on-failure destination. Also the synchronous invoke a state machine task makes."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from .deploy import Deployment
from .runtime import DeadLetter, Deliverer, InvocationError, LambdaRuntime


@dataclass
class _Invoke:
    function: str
    event: dict[str, Any]
    attempt: int = 0


class AsyncInvokes(Deliverer):
    def __init__(
        self, deployment: Deployment, runtime: LambdaRuntime, dead_letter: DeadLetter, stats: dict[str, int]
    ) -> None:
        super().__init__(deployment, runtime, dead_letter, stats)
        self._queue: deque[_Invoke] = deque()
        self._lock = threading.Lock()

    def enqueue(self, function: str, event: dict[str, Any]) -> None:
        with self._lock:
            self._queue.append(_Invoke(function, event))
            if self.duplicate_deliveries:
                # The copy jumps the queue: it arrives out of order, before work that
                # was queued earlier.
                self._queue.appendleft(_Invoke(function, json.loads(json.dumps(event))))
                self.stats["duplicates_injected"] += 1

    def invoke_task(self, function: str, event: dict[str, Any]) -> Any:
        """A synchronous invoke from a state machine task (retried by Step Functions)."""
        if self.duplicate_deliveries:
            self.runtime.invoke(function, json.loads(json.dumps(event)))
            self.stats["duplicates_injected"] += 1
        return self.runtime.invoke(function, event)

    def pending(self) -> bool:
        with self._lock:
            return bool(self._queue)

    def drain(self) -> int:
        done = 0
        while True:
            with self._lock:
                if not self._queue:
                    return done
                job = self._queue.popleft()
            done += 1
            self.stats["async_invokes"] += 1
            try:
                self.runtime.invoke(job.function, job.event)
            except InvocationError as exc:
                self._failed(job, exc)

    def _failed(self, job: _Invoke, exc: InvocationError) -> None:
        spec = self.d.functions[job.function]
        if job.attempt < spec.async_retries:
            with self._lock:
                self._queue.append(_Invoke(job.function, job.event, job.attempt + 1))
        elif spec.on_failure_arn:
            self.dead_letter(
                spec.on_failure_arn,
                {
                    "requestContext": {
                        "functionArn": spec.arn,
                        "condition": "RetriesExhausted",
                        "approximateInvokeCount": job.attempt + 1,
                    },
                    "requestPayload": job.event,
                    "responsePayload": exc.payload,
                },
            )

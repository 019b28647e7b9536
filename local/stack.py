"""Start and stop the whole local stack in this process."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from waitress import wasyncore
from waitress.server import create_server

from .clock import VirtualClock
from .template import ROOT, Template

LOG_DIR = ROOT / ".local"
# The local server also answers as a custom domain would with this base-path mapping
# (https://<domain>/notify/... -> the stage), so both URL shapes are tested.
CUSTOM_DOMAIN_BASE_PATH = "notify"


class ApiServer:
    """The API's HTTP server: waitress, which keeps a client's connection open between
    requests (HTTP/1.1 keep-alive) and answers from a pool of threads. werkzeug's
    development server closed every connection after one response and started a thread
    per connection: a connect, a thread and a selector per request, a sixth of an intake's
    time outside the handlers (bench/, "Local throughput")."""

    # More than the requests a test makes at once (F2 sends ten acceptances together; a
    # request to the control API may wait while another runs).
    THREADS = 32

    def __init__(self, host: str, port: int, app: Any) -> None:
        logging.getLogger("waitress").setLevel(logging.ERROR)  # no "Serving on ..." per stack
        self._server = create_server(app, host=host, port=port, threads=self.THREADS, ident="local")
        self.port: int = self._server.effective_port  # type: ignore[union-attr]

    def serve_forever(self) -> None:
        self._server.run()

    def shutdown(self) -> None:
        self._server.task_dispatcher.shutdown()  # type: ignore[union-attr]
        wasyncore.close_all(self._server._map)  # type: ignore[union-attr]  # ends run()'s loop


class _LateApp:
    """Lets the API server bind its port before the app exists (the URL goes into env)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


def _aws_environment(moto_port: int) -> None:
    os.environ.update(
        {
            "TZ": "UTC",  # moto's Step Functions compare timestamps in naive local time
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "AWS_REGION": "eu-central-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "MOTO_PORT": str(moto_port),
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    time.tzset()


class LocalStack:
    def __init__(self, start: datetime, api_port: int = 0, log_file: Path | None = None) -> None:
        self.clock = VirtualClock(start)
        self.api_port = api_port
        self.log_file = log_file or LOG_DIR / "handlers.log"
        self._threads: list[threading.Thread] = []

    def start(self) -> LocalStack:
        from . import moto_patches
        from .emulator import InProcessTransport, MotoServer

        moto_patches.check_version()

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto's Step Functions interpreter logs an error for every JSONPath it cannot
        # resolve, also where a Choice's IsPresent asks whether it exists (D22: a missing
        # path is simply false there, on AWS as in moto's own result). Other errors show.
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").addFilter(
            lambda record: "NoSuchJsonPathError" not in record.getMessage()
        )
        # Handlers flush metrics on every call; an empty flush is normal here.
        warnings.filterwarnings("ignore", message="No application metrics to publish")

        self.moto = MotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        moto_port = self.moto.get_host_and_port()[1]
        _aws_environment(moto_port)
        InProcessTransport(self.moto.app, os.environ["AWS_ENDPOINT_URL"]).install()
        requests.post(
            f"http://127.0.0.1:{moto_port}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        )

        late = _LateApp()
        self.api_server = ApiServer("127.0.0.1", self.api_port, late)
        self.url = f"http://127.0.0.1:{self.api_server.port}"
        self._serve(self.api_server)

        from .deploy import ACCOUNT, REGION, LocalDeployer
        from .iam import PolicyBook, enforce
        from .runtime import LambdaRuntime

        template = Template()
        deployer = LocalDeployer(template, self.url)
        self.deployment = deployer.deploy()
        # IAM, mirrored: each handler's AWS calls are checked against its role's policies.
        self.iam = PolicyBook(
            template,
            deployer.resolve,
            {f.logical_id: f.name for f in self.deployment.functions.values()},
            REGION,
            ACCOUNT,
        )
        enforce(self.iam)
        self.runtime = LambdaRuntime(self.deployment.functions)  # installs the env vars

        # Only now may the shared package be imported: it reads TABLE_NAME once.
        import notify.clock
        from notify.observability import logger, metrics

        from .http_api import LocalApi
        from .router import EventRouter

        notify.clock.use_clock(self.clock.now)
        self._redirect_logs(logger, metrics)
        self.router = EventRouter(self.deployment, self.runtime, self.clock)
        self.router.faults = self.moto.faults
        self.router.mailbox = self.moto.mailbox_simulator
        # Late-bound, so that instrumentation wrapped around runtime.invoke sees every call.
        moto_patches.apply(
            self.clock, lambda name, event: self.router.invoke_task(name, event), self.router.enqueue_async
        )
        late.app = LocalApi(
            self.deployment.routes,
            self.runtime,
            self.router,
            self.clock,
            stage=self.deployment.stage,
            base_paths={CUSTOM_DOMAIN_BASE_PATH: self.deployment.stage},
        )
        # What the deploy outputs as ApiUrl: the stage's URL (patient links live under it).
        self.api_url = f"{self.url}/{self.deployment.stage}"
        self.table_name = next(iter(self.deployment.tables.values()))
        return self

    def _serve(self, server: Any) -> None:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _redirect_logs(self, logger: Any, metrics: Any) -> None:
        """Handler logs and EMF metrics go to a file (the demo prints a timeline, not JSON).

        On Lambda each invocation flushes its metrics to stdout, where CloudWatch turns
        them into metrics; here they land in the same file as the logs, one JSON line per
        flush, so an operator can read what the dashboard would show.
        """
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        stream = self.log_file.open("a", encoding="utf-8")
        for handler in logging.getLogger(logger.name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(stream)
        lock = threading.Lock()

        def flush_to_file(raise_on_empty_metrics: bool = False) -> None:
            with lock:
                try:
                    line = json.dumps(metrics.serialize_metric_set())
                except Exception:  # nothing recorded since the last flush
                    return
                finally:
                    metrics.clear_metrics()
                stream.write(line + "\n")
                stream.flush()

        metrics.provider.flush_metrics = flush_to_file

    def stop(self) -> None:
        self.api_server.shutdown()
        self.moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

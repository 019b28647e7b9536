"""Cold start: the import of each handler module (with the layer) in a fresh interpreter,
median of repeated runs, against `import boto3` in the same run."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = tuple(sorted(p.parent.name for p in (ROOT / "functions").glob("*/handler.py")))
LAMBDA_ENV = {
    "TABLE_NAME": "bench",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
    "SCHEDULE_GROUP": "g",
    "SEND_FUNCTION_ARN": "arn:aws:lambda:eu-central-1:1:function:s",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/r",
    "PUBLIC_BASE_URL": "https://n.example",
    "EMAIL_FROM": "a@b.example",
    "PUSH_FCM_ARN": "arn:f",
    "PUSH_APNS_ARN": "arn:a",
    "EMAIL_CONFIGURATION_SET": "c",
    "SMS_ORIGINATIONS": "{}",
    "SMS_TWO_WAY_NUMBER_ID": "none",
    "SMS_PARTS_PER_SECOND": "20",
    "SMS_URGENT_SHARE_PERCENT": "30",
    "SMS_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/1/paced-sms",
    "LINK_KEY_ARN": "arn:aws:kms:eu-central-1:1:key/links",
    "SECRETS_KEY_ARN": "arn:aws:kms:eu-central-1:1:key/secrets",
    "ESCALATION_STATE_MACHINE_ARN": "arn:aws:states:eu-central-1:1:stateMachine:m",
    "POWERTOOLS_SERVICE_NAME": "patient-notify",
}


def _time_import(statement: str, env: dict[str, str]) -> float:
    code = "import time, sys; t = time.perf_counter(); " + statement + "; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(runs: int = 7) -> list[dict[str, object]]:
    """Median import milliseconds per handler, from source and with precompiled bytecode;
    the ratio compares bytecode with bytecode (Lambda's boto3 is precompiled, our layer
    ships its .pyc), measured in the same run."""
    base = {**os.environ, **LAMBDA_ENV, "PYTHONPATH": f"{ROOT / 'layers/shared/python'}{os.pathsep}{ROOT}"}
    cold = {**base, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": tempfile.mkdtemp()}
    warm_cache = tempfile.mkdtemp()
    compiled = {**base, "PYTHONPYCACHEPREFIX": warm_cache}
    compiled.pop("PYTHONDONTWRITEBYTECODE", None)

    def both(statement: str) -> tuple[float, float]:
        _time_import(statement, compiled)  # fills the bytecode cache, like a build step would
        source = statistics.median(_time_import(statement, cold) for _ in range(runs))
        cached = statistics.median(_time_import(statement, compiled) for _ in range(runs))
        return source * 1000, cached * 1000

    boto_source, boto = both("import boto3")
    rows: list[dict[str, object]] = []
    for name in FUNCTIONS:
        source, cached = both(f"import functions.{name}.handler")
        rows.append(
            {"function": name, "source_ms": source, "bytecode_ms": cached, "ratio_to_boto3": cached / boto}
        )
    rows.append(
        {"function": "(import boto3)", "source_ms": boto_source, "bytecode_ms": boto, "ratio_to_boto3": 1.0}
    )
    # What `import boto3` is made of: botocore's session (boto3 adds its resource layer and
    # s3transfer on top). Every handler needs botocore: pynamodb is built on it.
    _, sdk = both("import botocore.session")
    rows.append(
        {
            "function": "(import botocore.session)",
            "source_ms": None,
            "bytecode_ms": sdk,
            "ratio_to_boto3": sdk / boto,
        }
    )
    # The floor any handler here starts from: the SDK pynamodb needs (botocore, without
    # boto3: aws_clients builds botocore's clients), pydantic and powertools' logger.
    _, floor = both("import botocore.session, pynamodb.models, pydantic, aws_lambda_powertools.logging")
    rows.append(
        {
            "function": "(botocore+pynamodb+pydantic+logger)",
            "source_ms": None,
            "bytecode_ms": floor,
            "ratio_to_boto3": floor / boto,
        }
    )
    return rows


# The layer's own pure-Python imports (its compiled extensions are aarch64, so a handler
# cannot be imported from the built layer on this machine).
LAYER_IMPORTS = (
    "import jinja2, babel.dates, phonenumbers, aws_lambda_powertools.logging, aws_lambda_powertools.event_handler"
)


def layer_bytecode(runs: int = 5) -> dict[str, object] | None:
    """The built layer's imports on the runtime's Python, with the .pyc it ships and from
    source only; None when no such interpreter is here or the layer has no bytecode."""
    from infra.build_layer import OUT, RUNTIME_PROVIDED, _interpreter
    from infra.lambda_python import VERSION

    python = _interpreter(VERSION)
    if python is None or not any(OUT.rglob("*.pyc")):
        return None
    source_only = Path(tempfile.mkdtemp()) / "python"
    shutil.copytree(OUT, source_only, ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    runtime = Path(tempfile.mkdtemp())  # what the Lambda runtime provides (boto3 & co)
    import botocore

    site = Path(botocore.__file__).parent.parent
    for name in RUNTIME_PROVIDED:
        if (site / name).exists():
            (runtime / name).symlink_to(site / name)

    def timed(layer: Path) -> float:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": f"{layer}{os.pathsep}{runtime}"}
        code = f"import time; t = time.perf_counter(); {LAYER_IMPORTS}; print(time.perf_counter() - t)"
        return statistics.median(
            float(
                subprocess.run(
                    [python, "-c", code], env=env, capture_output=True, text=True, check=True
                ).stdout.strip()
            )
            for _ in range(runs)
        )

    return {"python": VERSION, "bytecode_ms": timed(OUT) * 1000, "source_ms": timed(source_only) * 1000}

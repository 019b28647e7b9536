"""boto3 clients, created lazily (never at import time) and once per process."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    """A client on its own session (the default session is not thread-safe)."""
    session: Any = boto3.session.Session()  # service names are checked by the callers' tests
    return session.client(service, config=_CONFIG)

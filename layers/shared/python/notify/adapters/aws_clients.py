"""AWS SDK clients, created lazily (never at import time) and once per process.

botocore's own clients, not boto3's: a boto3 client is the same botocore client, and
`import boto3` also loads s3transfer (and with it multiprocessing), which no function here
uses: about 15% of a handler's import (issue 16).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    """A client on its own session (a botocore session is not thread-safe)."""
    return botocore.session.get_session().create_client(service, config=_CONFIG)

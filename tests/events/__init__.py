"""AWS event shapes our functions receive, as JSON (the shapes AWS documents), shared by
the tests: `load("dynamodb_stream_ttl_remove")` returns a fresh copy to change."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def _read(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def load(name: str) -> dict[str, Any]:
    return copy.deepcopy(_read(name))


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.json"))

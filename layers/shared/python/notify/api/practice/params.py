"""Path and query parameters of the practice API, and what its routes are given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ...adapters.link_keys import LinkKeys

ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
PracticeId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
EntityId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
PhoneNumber = Annotated[str, Path(min_length=3, max_length=20, pattern=r"^\+?[0-9]+$")]
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


@dataclass(frozen=True)
class PracticeApi:
    """What the routes work with, built once from the function's settings (`wire`). Not
    the resolver's per-request context: that is cleared when any request ends, so a
    second request in the same process (the local stack's threads) would lose it."""

    links: LinkKeys


_wired: list[PracticeApi] = []


def wire(api: PracticeApi) -> None:
    _wired[:] = [api]


def wired() -> PracticeApi:
    if not _wired:
        raise RuntimeError("the practice API is not wired (functions/booking_webhook/handler.py)")
    return _wired[0]

"""Operator CLI: onboard or reconfigure a practice. The same code path locally and on AWS.

    TABLE_NAME=... python -m ops.practice onboard --practice-id harbour --name "Harbour
        Dental" --timezone Europe/London --country GB --locale en [--secret S]

On AWS it uses your credentials; against the local stack set AWS_ENDPOINT_URL to the
emulator (printed by `make serve`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import secrets
import sys
from typing import Any
from zoneinfo import ZoneInfo

from notify.domain.model import PracticeSettings


def onboard(
    practice_id: str,
    secret: str | None = None,
    callback_url: str | None = None,
    calendars: dict[str, dict[str, Any]] | None = None,
    **settings: Any,
) -> str:
    """Create or replace a practice; returns its webhook secret (generated if not given)."""
    from notify.dal.conversions import settings_from_json
    from notify.dal.practices import save_practice

    ZoneInfo(settings.get("timezone", "UTC"))  # fail early on a bad zone
    known = {f.name for f in dataclasses.fields(PracticeSettings)}
    unknown = set(settings) - known
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    secret = secret or secrets.token_urlsafe(32)
    save_practice(practice_id, secret, settings_from_json(settings), callback_url, calendars)
    return secret


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.practice")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("onboard")
    cmd.add_argument("--practice-id", required=True)
    cmd.add_argument("--name", required=True)
    cmd.add_argument("--timezone", required=True)
    cmd.add_argument("--country", required=True)
    cmd.add_argument("--locale", default="en")
    cmd.add_argument("--secret")
    cmd.add_argument("--callback-url")
    cmd.add_argument("--settings", default="{}", help="JSON of further PracticeSettings")
    args = parser.parse_args(argv)
    secret = onboard(
        args.practice_id,
        secret=args.secret,
        callback_url=args.callback_url,
        name=args.name,
        timezone=args.timezone,
        country=args.country,
        locale=args.locale,
        **json.loads(args.settings),
    )
    json.dump({"practice_id": args.practice_id, "webhook_secret": secret}, sys.stdout)
    print()


if __name__ == "__main__":
    main()

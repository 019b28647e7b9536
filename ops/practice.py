"""Operator CLI: onboard a practice, rotate its API keys, see it leave. The same code
locally and on AWS.

    TABLE_NAME=... SECRETS_KEY_ARN=... python -m ops.practice onboard \
        --practice-id harbour --name "Harbour Dental" --timezone Europe/London --country GB
    python -m ops.practice rotate-key --practice-id harbour
    python -m ops.practice retire-key --practice-id harbour --key-id key_1a2b3c4d5e6f
    python -m ops.practice export --practice-id harbour --out harbour.jsonl
    python -m ops.practice offboard --practice-id harbour --confirm harbour
    python -m ops.practice status --practice-id harbour

`export` writes everything held about each of the practice's patients (one JSON line
each, as the practice API's export gives it, P5) to a file only its owner can read: what
the practice takes with it when it leaves (GDPR art. 28(3)(g): returned, then deleted).
`offboard` closes the practice at once (its keys deleted: no request of it is accepted;
nothing more is sent) and its data is erased from 15 minutes later (docs/runbook.md,
"A practice leaves"); it prints the SMS usage of this month and the last, for the final
invoice. `status` shows where the leaving stands.

Secrets are generated here and printed once (as JSON, to hand to the practice); they are
stored only sealed with KMS (P3), and never taken on the command line (shell history and
process lists would keep them). `SECRETS_KEY_ARN` is the stack's output of that name. On
AWS it uses your credentials; against the local stack set AWS_ENDPOINT_URL to the
emulator (printed by `make serve`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Credentials:
    """What a practice's developers need: the API key they sign requests with (Standard
    Webhooks for events, RFC 9421 for the rest) and the secret our callbacks carry."""

    practice_id: str
    key_id: str
    api_secret: str
    callback_secret: str


def _kms_key(key_arn: str | None) -> str:
    key = key_arn or os.environ.get("SECRETS_KEY_ARN")
    if not key:
        raise SystemExit("SECRETS_KEY_ARN is not set (the stack's output of that name)")
    return key


def _not_closed(practice_id: str, allow_erased: bool = False) -> None:
    """Refuse to give a closed practice keys or settings (D19). A practice whose data is
    erased may be onboarded again (`allow_erased`): it starts afresh."""
    from notify.dal.practices import departure

    state = departure(practice_id)
    if state is not None and state.closed_at is not None and not (allow_erased and state.erased_at is not None):
        raise SystemExit(f"practice {practice_id} closed at {state.closed_at.isoformat()}: see `status`")


def configure(
    practice_id: str,
    callback_url: str | None = None,
    calendars: dict[str, dict[str, Any]] | None = None,
    **settings: Any,
) -> None:
    """Create or replace a practice's settings (its keys stay as they are), validated as
    a `practice.configured` event's are (SettingsProblem names the field)."""
    from notify.dal.practices import save_practice
    from notify.practice_settings import validate_configuration

    _not_closed(practice_id, allow_erased=True)
    valid, calendars_valid, callback = validate_configuration(
        {"settings": settings, "calendars": calendars or {}, "callback_url": callback_url},
        loopback_http=os.environ.get("LOCAL_LOOPBACK_CALLBACKS") == "true",
    )
    save_practice(practice_id, valid, callback, calendars_valid)


def onboard(
    practice_id: str,
    callback_url: str | None = None,
    calendars: dict[str, dict[str, Any]] | None = None,
    secrets_key_arn: str | None = None,
    **settings: Any,
) -> Credentials:
    """Create a practice and issue its first API key and its callback secret."""
    from notify.clock import utcnow
    from notify.services import practice_keys

    key = _kms_key(secrets_key_arn)
    configure(practice_id, callback_url, calendars, **settings)
    now = utcnow()
    api = practice_keys.issue_api_key(practice_id, key, now)
    callback = practice_keys.issue_callback_secret(practice_id, key, now)
    return Credentials(practice_id, api.key_id, api.secret, callback.secret)


def offboard(practice_id: str) -> dict[str, Any]:
    """Close the practice (D19); its erasure follows. Returns the receipt the CLI prints."""
    from datetime import timedelta

    from notify.clock import utcnow
    from notify.dal.errors import NotFoundError
    from notify.dal.quota import sms_used
    from notify.services import offboarding

    try:
        closed_at = offboarding.close(practice_id, utcnow())
    except NotFoundError as exc:
        raise SystemExit(f"unknown practice {practice_id}") from exc
    months = sorted(
        {closed_at.strftime("%Y-%m"), (closed_at.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")}
    )
    return {
        "practice_id": practice_id,
        "closed_at": closed_at.isoformat(),
        "erasure_from": (closed_at + offboarding.ERASE_AFTER).isoformat(),
        "sms_used": {month: sms_used(practice_id, month) for month in months},
    }


def export(practice_id: str, out: str) -> dict[str, Any]:
    """Every patient's export (P5) as JSON Lines in `out`, created readable by its owner
    only (it holds health data). Returns what was written."""
    from notify.clock import utcnow
    from notify.dal.practices import patient_ids
    from notify.services.practice_reads import patient_export

    now = utcnow()
    count = 0
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as lines:
        for patient_id in patient_ids(practice_id):
            lines.write(json.dumps(patient_export(practice_id, patient_id, now), ensure_ascii=False) + "\n")
            count += 1
    return {"practice_id": practice_id, "patients": count, "file": out, "exported_at": now.isoformat()}


def status(practice_id: str) -> dict[str, Any]:
    from notify.dal.practices import departure

    state = departure(practice_id)
    if state is None:
        raise SystemExit(f"unknown practice {practice_id}")
    if state.closed_at is None:
        return {"practice_id": practice_id, "state": "open"}
    return {
        "practice_id": practice_id,
        "state": "erased" if state.erased_at else "closed: erasure under way",
        "closed_at": state.closed_at.isoformat(),
        "erased_at": state.erased_at.isoformat() if state.erased_at else None,
        "items_removed": state.removed or 0,
    }


def main(argv: list[str] | None = None) -> None:
    from notify.clock import utcnow
    from notify.services import practice_keys

    parser = argparse.ArgumentParser(prog="python -m ops.practice")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("onboard", help="create a practice; prints its secrets once")
    cmd.add_argument("--practice-id", required=True)
    cmd.add_argument("--name", required=True)
    cmd.add_argument("--timezone", required=True)
    cmd.add_argument("--country", required=True)
    cmd.add_argument("--locale", default="en")
    cmd.add_argument("--callback-url")
    cmd.add_argument("--settings", default="{}", help="JSON of further PracticeSettings")
    rotate = sub.add_parser("rotate-key", help="issue a second API key; prints it once")
    rotate.add_argument("--practice-id", required=True)
    retire = sub.add_parser("retire-key", help="stop accepting an API key")
    retire.add_argument("--practice-id", required=True)
    retire.add_argument("--key-id", required=True)
    leave = sub.add_parser("offboard", help="close a practice now and erase its data (15 minutes on)")
    leave.add_argument("--practice-id", required=True)
    leave.add_argument("--confirm", required=True, help="the practice id again: this cannot be undone")
    state = sub.add_parser("status", help="open, closed (erasure under way) or erased")
    state.add_argument("--practice-id", required=True)
    everything = sub.add_parser("export", help="every patient's data, one JSON line each, into a new file")
    everything.add_argument("--practice-id", required=True)
    everything.add_argument("--out", required=True, help="a new file (never overwritten), readable by you only")
    args = parser.parse_args(argv)
    if args.command in ("offboard", "status", "export"):
        if args.command == "offboard" and args.confirm != args.practice_id:
            raise SystemExit("--confirm must repeat --practice-id")
        if args.command == "export":
            done = export(args.practice_id, args.out)
        else:
            done = offboard(args.practice_id) if args.command == "offboard" else status(args.practice_id)
        json.dump(done, sys.stdout, indent=2)
        print()
        return
    if args.command == "onboard":
        credentials = onboard(
            args.practice_id,
            callback_url=args.callback_url,
            name=args.name,
            timezone=args.timezone,
            country=args.country,
            locale=args.locale,
            **json.loads(args.settings),
        )
        json.dump(dataclasses.asdict(credentials), sys.stdout, indent=2)
    elif args.command == "rotate-key":
        _not_closed(args.practice_id)
        issued = practice_keys.issue_api_key(args.practice_id, _kms_key(None), utcnow())
        json.dump(
            {"practice_id": args.practice_id, "key_id": issued.key_id, "api_secret": issued.secret},
            sys.stdout,
            indent=2,
        )
    else:
        removed = practice_keys.retire_api_key(args.practice_id, args.key_id)
        json.dump({"practice_id": args.practice_id, "key_id": args.key_id, "retired": removed}, sys.stdout)
    print()
    print("Shown once: hand it to the practice now; it is stored encrypted only.", file=sys.stderr)


if __name__ == "__main__":
    main()

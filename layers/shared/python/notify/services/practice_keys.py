"""A practice's keys (P3): API keys it signs its requests with (two may be active at once,
so it rotates without downtime), and the secret we sign our callbacks to it with.

Secrets are generated here, shown once to whoever issued them (the operator CLI) and
stored only sealed with KMS. Every secret is 32 random bytes in Standard Webhooks' form
(`whsec_` + base64), the same bytes serving as the HMAC key of RFC 9421 signatures.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from ..adapters import secret_box
from ..dal import practices as practice_store
from .errors import ServiceError

API, CALLBACK = "api", "callback"
MAX_ACTIVE_KEYS = 2


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str  # whsec_<base64>: shown once, never stored in plain text


class TooManyKeysError(ServiceError):
    field = "key_id"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def issue_api_key(practice_id: str, kms_key_arn: str, now: datetime) -> IssuedKey:
    """A new active API key; the practice then has at most two (retire the old one once
    its systems use the new one)."""
    stored = practice_store.get_secrets(practice_id)
    if len(stored.api_keys) >= MAX_ACTIVE_KEYS:
        raise TooManyKeysError(f"{MAX_ACTIVE_KEYS} keys are active: retire one first")
    issued = IssuedKey(f"key_{secrets.token_hex(6)}", new_secret())
    practice_store.add_api_key(
        practice_id, issued.key_id, secret_box.seal(kms_key_arn, issued.secret, practice_id, API), now
    )
    return issued


def retire_api_key(practice_id: str, key_id: str) -> bool:
    """Remove a key: requests signed with it are refused from now on."""
    return practice_store.remove_api_key(practice_id, key_id)


def issue_callback_secret(practice_id: str, kms_key_arn: str, now: datetime) -> IssuedKey:
    issued = IssuedKey(f"cb_{secrets.token_hex(6)}", new_secret())
    practice_store.set_callback_secret(
        practice_id, issued.key_id, secret_box.seal(kms_key_arn, issued.secret, practice_id, CALLBACK), now
    )
    return issued


def api_keys(kms_key_arn: str, practice_id: str) -> dict[str, bytes]:
    """The practice's active API keys, decrypted: key id -> HMAC key."""
    stored = practice_store.get_secrets(practice_id)
    return {
        k.key_id: secret_bytes(secret_box.unseal(kms_key_arn, k.ciphertext, practice_id, API))
        for k in stored.api_keys
    }


def callback_secret(kms_key_arn: str, practice_id: str) -> str | None:
    stored = practice_store.get_secrets(practice_id).callback
    if stored is None:
        return None
    return secret_box.unseal(kms_key_arn, stored.ciphertext, practice_id, CALLBACK)

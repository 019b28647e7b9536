"""Practice secrets sealed with KMS (P3): encrypted directly by a customer-managed key
(secrets are far below KMS's 4 KB limit), bound by the encryption context to the
practice and the purpose, so a ciphertext copied to another practice or purpose does
not decrypt. Decrypted secrets are kept per container for a few minutes (KMS is called
once per practice and container in that time, not per request)."""

from __future__ import annotations

import base64
import time

from .aws_clients import client

CACHE_SECONDS = 300
_cache: dict[tuple[str, str, str], tuple[float, str]] = {}


def seal(key_arn: str, plaintext: str, practice_id: str, purpose: str) -> str:
    response = client("kms").encrypt(
        KeyId=key_arn, Plaintext=plaintext.encode(), EncryptionContext=_context(practice_id, purpose)
    )
    return base64.b64encode(response["CiphertextBlob"]).decode()


def unseal(key_arn: str, ciphertext: str, practice_id: str, purpose: str) -> str:
    """Decrypt with `key_arn` only (naming the key: a ciphertext of another key fails)."""
    cached = _cache.get((ciphertext, practice_id, purpose))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    response = client("kms").decrypt(
        KeyId=key_arn,
        CiphertextBlob=base64.b64decode(ciphertext),
        EncryptionContext=_context(practice_id, purpose),
    )
    plaintext = bytes(response["Plaintext"]).decode()
    _cache[(ciphertext, practice_id, purpose)] = (time.monotonic() + CACHE_SECONDS, plaintext)
    return plaintext


def _context(practice_id: str, purpose: str) -> dict[str, str]:
    return {"practice_id": practice_id, "purpose": purpose}

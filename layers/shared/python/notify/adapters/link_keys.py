"""The keyed MAC that patient-link tokens are derived from (KMS HMAC key: the key never
leaves KMS; GenerateMac is deterministic, so every sender derives the same token)."""

from __future__ import annotations

from functools import lru_cache

from ..domain import patient_link
from .aws_clients import client


class LinkKeys:
    def __init__(self, key_arn: str) -> None:
        self.key_arn = key_arn

    def token(self, link_input: bytes) -> str:
        return _token(self.key_arn, link_input)

    def appointment_token(self, practice_id: str, appointment_id: str, generation: int) -> str:
        return self.token(patient_link.appointment_link_input(practice_id, appointment_id, generation))

    def recall_token(self, practice_id: str, recall_id: str, period: str) -> str:
        return self.token(patient_link.recall_link_input(practice_id, recall_id, period))


@lru_cache(maxsize=4096)
def _token(key_arn: str, link_input: bytes) -> str:
    """One KMS call per link per container (a sender renders the same link for every
    channel of a message)."""
    response = client("kms").generate_mac(KeyId=key_arn, Message=link_input, MacAlgorithm="HMAC_SHA_256")
    return patient_link.token_from_mac(response["Mac"])

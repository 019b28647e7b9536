"""SMS segment count (B3): GSM-7 when every character allows it, UCS-2 otherwise."""

from __future__ import annotations

import unicodedata

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(c in _GSM7_BASIC or c in _GSM7_EXTENDED for c in text)


def segment_count(text: str) -> int:
    """Number of SMS parts `text` is billed as."""
    if is_gsm7(text):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        return 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return 1 if units <= 70 else -(-units // 67)


def transliterate(text: str) -> str:
    """Replace characters outside GSM-7 by their closest GSM-7 spelling (ł -> l, ą -> a)."""
    out = []
    for c in text:
        if c in _GSM7_BASIC or c in _GSM7_EXTENDED:
            out.append(c)
            continue
        special = {"ł": "l", "Ł": "L", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}
        if c in special:
            out.append(special[c])
            continue
        base = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
        out.append(base or "?")
    return "".join(out)

"""What a patient's text message says (T1, T2), in any of our languages.

Answers are digits (1 confirm, 2 cancel): the same in every language, and clear of the
opt-out keywords (CANCEL is one: a US carrier and the FCC read it as "stop texting me").
Opt-out is a keyword as the whole message, or as its first word (STOP, STOP ALL, ARRET,
REZYGNUJE...): "please don't stop reminding me" stops nothing. Case, accents,
punctuation and spaces do not matter; trailing words after a digit are tolerated
("1 thanks!").
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Reply(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    STOP = "stop"
    START = "start"
    OTHER = "other"


# Whole-message or first-word opt-out keywords (en, pl, fr), after folding (no accents,
# upper case, punctuation as spaces). The carriers' and regulators' lists: STOP, QUIT,
# END, REVOKE, OPT OUT, CANCEL, UNSUBSCRIBE, STOPALL; CNIL: STOP; Polish and French usage.
STOP_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "QUIT",
        "END",
        "REVOKE",
        "CANCEL",
        "UNSUBSCRIBE",
        "ARRET",
        "ARRETER",
        "DESABONNER",
        "DESINSCRIRE",
        "REZYGNUJE",
        "REZYGNACJA",
        "WYPISZ",
        "KONIEC",
    }
)
STOP_PHRASES = frozenset({"OPT OUT", "STOP ALL", "STOP SMS", "NO MORE", "NIE WYSYLAJ", "PLUS DE SMS"})
START_WORDS = frozenset({"START", "UNSTOP", "RESUME", "DEMARRER", "WZNOW"})
ANSWERS = {"1": Reply.CONFIRM, "2": Reply.CANCEL}


def fold(text: str) -> str:
    """Upper case, accents dropped (ARRÊT -> ARRET, Ł -> L), punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", plain).upper().split())


def parse_reply(text: str) -> Reply:
    folded = fold(text or "")
    if not folded:
        return Reply.OTHER
    words = folded.split()
    if folded in STOP_PHRASES or words[0] in STOP_WORDS and len(words) <= 3:
        return Reply.STOP
    if words[0] in START_WORDS and len(words) <= 3:
        return Reply.START
    return ANSWERS.get(words[0], Reply.OTHER)

"""Contact data checks (C5): SMS needs a mobile number valid in E.164 after normalising
with the practice's country; email needs a plausible address."""

from __future__ import annotations

import re

# One @, no spaces, a dotted domain with a 2+ letter TLD: what a mail server would accept
# for delivery, without pretending to implement RFC 5322 in full.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}$")
# phonenumbers loads on the first number checked: functions that never see one (the
# sender's push path, the planner) do not pay for its import (issue 16).


def normalise_mobile(raw: str, country: str) -> str | None:
    """Return the number in E.164 if it is a valid mobile number, else None."""
    if not raw:
        return None
    import phonenumbers
    from phonenumbers import PhoneNumberType

    try:
        number = phonenumbers.parse(raw, country.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_valid_email(raw: str) -> bool:
    """True for an address that can be handed to the mail provider."""
    return bool(raw) and len(raw) <= 254 and ".." not in raw and bool(_EMAIL.match(raw))


def number_country(e164: str) -> str:
    """The ISO country (region) of a valid E.164 number, e.g. "PL"; "" if unknown."""
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return ""

"""Normalising the identifiers members are found by (pure)."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidIdentifier(ValueError):
    pass


def normalise_phone(raw: str, region: str) -> str:
    """E.164; a national number is read in the program's country."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier("Not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(
            f"Not a valid phone number (national numbers are read as {region}; "
            "otherwise start with + and the country code)."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """Lower-cased whole: mailbox names are case-blind at every provider members use."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidIdentifier(str(error)) from None
    return result.normalized.lower()

"""Pure decisions about coupons: how a code is read, and what state a coupon is in.

No Flask, SQLAlchemy or marshmallow here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

# No 0/O, 1/I/L: codes are read aloud and typed at tills.
COUPON_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
# What people put between groups when they write a code down or print it: VDRE-94H2-TJCE, "vdre 94h2 tjce".
_SEPARATORS = re.compile(r"[\s\-._/]")
_CODE = re.compile(rf"^[{COUPON_ALPHABET}]{{{CODE_LENGTH}}}$")

STATUSES = ("valid", "used", "expired", "void")


def normalise_coupon_code(text: str) -> str | None:
    """The code as stored (12 upper-case characters of the alphabet), or None if `text` can't be one.

    Case and separators are ignored, and full-width characters (Chinese input methods) count as
    their ASCII forms. Every path that takes a code (use, check, the POS lookup) reads it here.
    """
    if not isinstance(text, str) or len(text) > 64:
        return None
    plain = unicodedata.normalize("NFKC", text)
    plain = "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char for char in plain
    )
    code = _SEPARATORS.sub("", plain).upper()
    return code if _CODE.match(code) else None


def coupon_status(
    *, used_at: datetime | None, voided_at: datetime | None, valid_until: datetime | None, now: datetime
) -> str:
    """`used` and `void` are final; otherwise `expired` from `valid_until` on, else `valid`."""
    if used_at is not None:
        return "used"
    if voided_at is not None:
        return "void"
    if valid_until is not None and valid_until <= now:
        return "expired"
    return "valid"

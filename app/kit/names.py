"""The one rule for every name people give and others read.

Organization names, workspace names, a profile's display name and the lines of a billing
address are shown in lists, emails, invoices and audit trails, so each is normalized the same
way (Unicode NFC; surrounding whitespace trimmed, inner runs of whitespace, newlines included,
collapsed to one space) and refuses the same characters: controls (NUL, BEL, ...), format
characters (U+202E that reverses text, U+200B that hides in it, ...), lone surrogates, private
use and unassigned code points. Lengths are counted after normalizing.
"""

import unicodedata

from pydantic import AfterValidator

# Raw input may carry whitespace the normalized name drops; this bounds the work done on it.
MAX_RAW_NAME_LENGTH = 1000
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


class InvalidName(ValueError):
    """The text cannot be a name; the message says why."""


def normalize_display_name(name: str) -> str:
    """The name as stored and shown: Unicode NFC, surrounding and repeated whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def check_name(name: str, max_length: int) -> str:
    """Return the normalized name, or raise `InvalidName` saying what is wrong."""
    display = normalize_display_name(name)
    if not display:
        raise InvalidName("must not be empty")
    if len(display) > max_length:
        raise InvalidName(f"must be at most {max_length} characters")
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in display):
        raise InvalidName("must not contain control, format or unassigned characters")
    return display


def name_rule(max_length: int) -> AfterValidator:
    """The validator of a request field that holds a name, for `Annotated[str, ...]`; pair it
    with `Field(max_length=MAX_RAW_NAME_LENGTH)`."""

    def check(value: str) -> str:
        try:
            return check_name(value, max_length)
        except InvalidName as exc:
            raise ValueError(f"the name {exc}") from None

    return AfterValidator(check)

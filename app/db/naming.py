"""How organization names become identifiers and MongoDB collection names.

`organization_identifier` is the slug of the name: lower-case ASCII (accents and other scripts
transliterated), every run of anything else turned into one `-`, trimmed. The tenant collection
is `tenant_` + the slug with `_` for `-`. Because the slug alphabet is `[a-z0-9-]`, a collection
name can never hold `$`, NUL or a `system.` prefix; bounding the slug's length keeps the
namespace (`<tenant db>.<collection>`) far below MongoDB's 255-byte limit.
"""

import re
import unicodedata

from text_unidecode import unidecode

from app.kit.names import InvalidName, check_name, normalize_display_name

# The rule of every name is app.kit.names; it is spelled here too, beside the slug rules.
__all__ = [
    "MAX_IDENTIFIER_LENGTH",
    "MAX_NAME_LENGTH",
    "TENANT_COLLECTION_PREFIX",
    "TRASH_COLLECTION_PREFIX",
    "InvalidName",
    "identifier_for",
    "name_key",
    "normalize_display_name",
    "tenant_collection_for",
    "trash_collection_for",
    "validate_name",
]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")

MAX_NAME_LENGTH = 100
MAX_IDENTIFIER_LENGTH = 120
TENANT_COLLECTION_PREFIX = "tenant_"
# A soft-deleted organization's collection waits under this prefix, so nothing that looks for
# tenant collections (`tenant_`) takes it for one.
TRASH_COLLECTION_PREFIX = "trash_"


def name_key(name: str) -> str:
    """The key two names are compared by: case-insensitive, whitespace-normalized."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def identifier_for(name: str) -> str:
    """The slug of the name's key, so that names equal as keys always share an identifier
    (transliterating before folding case would not: `Ξ` becomes `KS` but `ξ` becomes `x`)."""
    return _NOT_SLUG.sub("-", unidecode(name_key(name)).lower()).strip("-")


def tenant_collection_for(identifier: str) -> str:
    return TENANT_COLLECTION_PREFIX + identifier.replace("-", "_")


def trash_collection_for(identifier: str, organization_id: str) -> str:
    """`trash_<identifier>_<id>`: the id (24 hex digits) makes it the organization's alone,
    whatever later takes the identifier; at most 151 characters, so the namespace stays
    below MongoDB's 255 bytes with any database name (64 bytes at most)."""
    return f"{TRASH_COLLECTION_PREFIX}{identifier.replace('-', '_')}_{organization_id}"


def validate_name(name: str) -> str:
    """Return the normalized display name, or raise `InvalidName` saying what is wrong: the
    rule of every name (`app.kit.names`), and a slug that can name a collection."""
    display = check_name(name, MAX_NAME_LENGTH)
    identifier = identifier_for(display)
    if not identifier:
        raise InvalidName("must contain at least one letter or digit")
    if len(identifier) > MAX_IDENTIFIER_LENGTH:
        raise InvalidName(
            f"is too long once transliterated (identifier over {MAX_IDENTIFIER_LENGTH} characters)"
        )
    return display

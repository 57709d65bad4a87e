"""API key secrets: how they look, and the keyed hash that is all the service keeps of them.

A secret reads `<kind>_<key id><random part>`: `tko_` for an organization's key, `tkp_` for
a platform (operator) key, then the 24 hex digits of the key record's ObjectId (shown in
listings as its prefix; the actor of what the key does), then the 43 characters of
`secrets.token_urlsafe(32)`. Only HMAC-SHA256 of the whole secret under the service's signing
key is stored, so a copy of the database does not hold working keys. Keys hashed under a
signing key that has since been retired (`PREVIOUS_SECRET_KEYS`) keep verifying while it is
listed.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bson import ObjectId


class KeyKind(StrEnum):
    ORGANIZATION = "tko"
    PLATFORM = "tkp"


_SECRET = re.compile(r"^(tko|tkp)_([0-9a-f]{24})([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class MintedKey:
    """A new key: `secret` is shown to its creator once and never stored."""

    kind: KeyKind
    key_id: ObjectId
    secret: str
    digest: str

    @property
    def prefix(self) -> str:
        """What listings show of the key: its kind and id, no part of the secret."""
        return f"{self.kind.value}_{self.key_id}"


@dataclass(frozen=True, slots=True)
class PresentedKey:
    """A secret as a client sent it, split into what names the key and the whole."""

    kind: KeyKind
    key_id: ObjectId
    secret: str


def looks_like_key(credential: str) -> bool:
    """Whether a bearer credential has an API key's shape (else it may be a token)."""
    return credential.startswith((f"{KeyKind.ORGANIZATION}_", f"{KeyKind.PLATFORM}_"))


def parse_key(credential: str) -> PresentedKey | None:
    found = _SECRET.match(credential)
    if found is None:
        return None
    return PresentedKey(KeyKind(found.group(1)), ObjectId(found.group(2)), credential)


class KeyHasher:
    def __init__(self, signing_keys: list[str]) -> None:
        self._keys = [key.encode() for key in signing_keys]

    def mint(self, kind: KeyKind) -> MintedKey:
        key_id = ObjectId()
        secret = f"{kind.value}_{key_id}{secrets.token_urlsafe(32)}"
        return MintedKey(kind, key_id, secret, self._digest(self._keys[0], secret))

    def matches(self, presented: PresentedKey, digest: str) -> bool:
        """Whether the secret is the one `digest` was made of, in constant time."""
        return any(
            hmac.compare_digest(self._digest(key, presented.secret), digest) for key in self._keys
        )

    @staticmethod
    def _digest(key: bytes, secret: str) -> str:
        return hmac.new(key, b"api-key:" + secret.encode(), hashlib.sha256).hexdigest()

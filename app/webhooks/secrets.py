"""Signing secrets: made (`whsec_` + base64 of 32 random bytes, as Standard Webhooks
verifiers take them), shown once, and sealed at rest.

The service must sign with the secret, so it cannot keep only a hash of it; a database reader
still learns nothing: each is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
the service's `SECRET_KEY`, with the endpoint's id as associated data (a sealed secret cannot
be moved to another endpoint). Keys are tried newest first, so secrets outlive a `SECRET_KEY`
rotation that keeps the old key in `PREVIOUS_SECRET_KEYS`.
"""

import base64
import os
from collections.abc import Sequence

from bson import ObjectId
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
_NONCE_BYTES = 12
_PURPOSE = b"tenantry webhooks: signing secret v1"


def new_secret() -> str:
    return PREFIX + base64.b64encode(os.urandom(32)).decode()


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._keys = [_derive(key.encode()) for key in keys]

    def seal(self, endpoint_id: ObjectId, secret: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._keys[0]).encrypt(nonce, secret.encode(), endpoint_id.binary)

    def open(self, endpoint_id: ObjectId, sealed: bytes) -> str | None:
        """The secret, or None when no key opens it (rotated out, or tampered with)."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        for key in self._keys:
            try:
                return AESGCM(key).decrypt(nonce, ciphertext, endpoint_id.binary).decode()
            except InvalidTag:
                continue
        return None


def _derive(secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret)

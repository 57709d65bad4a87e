"""What the record of an `Idempotency-Key` shows a database reader: nothing it could use.

- The record's id is SHA-256 over the caller's scope and the key; the scope is SHA-256 of the
  `Authorization` header (or "anonymous"), so the token itself is never stored, and two
  callers' keys never meet.
- The request's fingerprint is an HMAC keyed from the service's secret: a reader cannot test
  guesses of a body (a password, say) against it.
- The answer is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the service's
  secret and the idempotency key itself, which is stored nowhere; the record id is the
  associated data, so a sealed answer cannot be moved to another record. Without the key a
  client sent, even a reader who also holds the secret cannot open an answer.

Secrets are tried newest first, so records outlive a `SECRET_KEY` rotation that keeps the old
key in `PREVIOUS_SECRET_KEYS`.
"""

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ANONYMOUS = "anonymous"
_NONCE_BYTES = 12
_SEALING = b"tenantry idempotency: sealed response v1"
_FINGERPRINT = b"tenantry idempotency: request fingerprint v1"


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """One caller's idempotency key."""

    scope: str
    key: str

    @classmethod
    def of(cls, authorization: str | None, key: str) -> "KeyIdentity":
        if not authorization:
            return cls(ANONYMOUS, key)
        return cls(hashlib.sha256(authorization.encode("latin-1")).hexdigest(), key)

    @property
    def record_id(self) -> str:
        return hashlib.sha256(f"{self.scope}\n{self.key}".encode()).hexdigest()


def request_digest(method: str, target: str, body: bytes) -> bytes:
    """SHA-256 over the method, the path with its query string, and the body: canonical JSON
    (sorted keys, no whitespace) when it parses as JSON, the raw bytes otherwise."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), target.encode("utf-8", "surrogatepass"), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


class Sealer:
    """Fingerprints and sealed answers under the service's secrets (the current one first)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one secret is needed")
        self._secrets = [secret.encode() for secret in secrets]

    def fingerprint(self, identity: KeyIdentity, digest: bytes) -> str:
        return self._fingerprint(self._secrets[0], identity, digest)

    def matches(self, identity: KeyIdentity, digest: bytes, fingerprint: str) -> bool:
        """Whether `fingerprint` is this request's, under any of the secrets."""
        return any(
            hmac.compare_digest(self._fingerprint(secret, identity, digest), fingerprint)
            for secret in self._secrets
        )

    def seal(self, identity: KeyIdentity, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        key = _derive(self._secrets[0], identity, _SEALING)
        return nonce + AESGCM(key).encrypt(nonce, plaintext, identity.record_id.encode())

    def open(self, identity: KeyIdentity, sealed: bytes) -> bytes | None:
        """The plaintext, or None when no secret opens it (rotated out, or tampered with)."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        for secret in self._secrets:
            key = _derive(secret, identity, _SEALING)
            try:
                return AESGCM(key).decrypt(nonce, ciphertext, identity.record_id.encode())
            except InvalidTag:
                continue
        return None

    @staticmethod
    def _fingerprint(secret: bytes, identity: KeyIdentity, digest: bytes) -> str:
        key = _derive(secret, identity, _FINGERPRINT)
        return hmac.new(key, digest, hashlib.sha256).hexdigest()


def _derive(secret: bytes, identity: KeyIdentity, purpose: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=identity.record_id.encode(),
        info=purpose,
    )
    return hkdf.derive(secret + b"\x00" + identity.key.encode())

"""Failed-login throttling that holds across service instances.

Failures are counted in MongoDB per fixed window (`LOGIN_WINDOW_SECONDS`), under two keys:
the client address, and the account (its email, hashed, whether or not an account exists, so
a 429 tells nothing about which emails are registered). Past the limit a key answers 429 with
`Retry-After` until its window ends; a TTL index forgets old windows.

An attacker could keep an account's counter full forever. So the per-account limit does not
apply to addresses the account successfully logged in from in the last
`LOGIN_TRUSTED_ADDRESS_DAYS` days: the legitimate user keeps getting in from where they
usually are, while the attacker's own address runs into the per-address limit.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.accounts.models import email_key
from app.db.schema import LOGIN_FAILURES, TRUSTED_ADDRESSES
from app.db.store import Store
from app.errors import TooManyAttempts


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    window: timedelta
    max_per_account: int
    max_per_address: int
    trust_for: timedelta


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LoginThrottle:
    def __init__(
        self, store: Store, policy: ThrottlePolicy, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._failures = store.master[LOGIN_FAILURES]
        self._trusted = store.master[TRUSTED_ADDRESSES]
        self._policy = policy
        self._clock = clock

    async def check(self, email: str, address: str) -> None:
        """Raise TooManyAttempts when either key has used up its failures for this window."""
        window_start, window_end = self._window()
        keys = [(_address_key(address), self._policy.max_per_address)]
        if not await self._is_trusted(email, address):
            keys.append((_account_key(email), self._policy.max_per_account))
        for key, limit in keys:
            counter = await self._failures.find_one(
                {"_id": f"{key}:{int(window_start.timestamp())}"}, {"failures": 1}
            )
            if counter is not None and counter["failures"] >= limit:
                raise TooManyAttempts(int((window_end - self._clock()).total_seconds()) + 1)

    async def record_failure(self, email: str, address: str) -> None:
        window_start, window_end = self._window()
        for key in (_address_key(address), _account_key(email)):
            await self._failures.update_one(
                {"_id": f"{key}:{int(window_start.timestamp())}"},
                {"$inc": {"failures": 1}, "$setOnInsert": {"expires_at": window_end}},
                upsert=True,
            )

    async def record_success(self, email: str, address: str) -> None:
        if self._policy.trust_for <= timedelta(0):
            return
        await self._trusted.update_one(
            {"_id": _trust_key(email, address)},
            {"$set": {"expires_at": self._clock() + self._policy.trust_for}},
            upsert=True,
        )

    async def _is_trusted(self, email: str, address: str) -> bool:
        trusted = await self._trusted.find_one(
            {"_id": _trust_key(email, address)}, {"expires_at": 1}
        )
        return trusted is not None and _aware(trusted["expires_at"]) > self._clock()

    def _window(self) -> tuple[datetime, datetime]:
        seconds = int(self._policy.window.total_seconds())
        now = int(self._clock().timestamp())
        start = datetime.fromtimestamp(now - now % seconds, UTC)
        return start, start + self._policy.window


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _account_key(email: str) -> str:
    return f"account:{_digest(email_key(email))}"


def _address_key(address: str) -> str:
    return f"address:{address}"


def _trust_key(email: str, address: str) -> str:
    return f"{_digest(email_key(email))}:{address}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

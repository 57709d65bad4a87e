"""Login throttling that holds across service instances, and cannot be outrun by concurrency.

Before a password is checked, one attempt is reserved (`app.sessions.attempts`) under each of
two keys: the client address, and the account (its email, hashed, whether or not an account
exists, so a 429 tells nothing about which emails are registered). A key that already holds
its limit of attempts within the last `LOGIN_WINDOW_SECONDS` answers 429, with `Retry-After`
saying when its oldest attempt leaves the window. A wrong password keeps its attempt; a right
one gives it back, as does a request that fails or is cancelled before the verdict. So however
many requests arrive at once, at most the limit of them get their password checked; while
checks are under way, the others wait for their verdicts (a little while) before deciding.

The per-account key does not depend on the address: guesses from many addresses (a botnet, or
a rotating `X-Forwarded-For` if a proxy were wrongly trusted) all count against the account.

An attacker could keep an account's key full forever. So the per-account limit does not
apply to addresses the account successfully logged in from in the last
`LOGIN_TRUSTED_ADDRESS_DAYS` days: the legitimate user keeps getting in from where they
usually are, while the attacker's own address runs into the per-address limit.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

from app.accounts.models import email_key
from app.db.schema import TRUSTED_ADDRESSES
from app.db.store import Document, Store
from app.errors import TooManyAttempts
from app.sessions.attempts import AttemptLog, Clock, Quota, QuotaFull, Reservation, utc_now

# How long a request waits for the verdicts of checks under way when they fill a key: right
# passwords sent together get in a few at a time instead of being refused.
_PATIENCE_SECONDS = 10.0
# How stale a trust record may be before a login from its address writes it again.
_TRUST_REFRESH = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    window: timedelta
    max_per_account: int
    max_per_address: int
    trust_for: timedelta


class Attempt:
    """One password check's place under the throttle, for an `async with` around the check.

    Call `failed()` once the password proved wrong: the attempt stays counted. Any other way
    out of the block (a right password, an error, a cancelled request) gives it back.
    """

    def __init__(self, reservation: Reservation) -> None:
        self._reservation = reservation
        self._counted = False

    def failed(self) -> None:
        self._counted = True

    async def __aenter__(self) -> "Attempt":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._counted:
            await self._reservation.keep()
        else:
            await self._reservation.release()


class LoginThrottle:
    def __init__(self, store: Store, policy: ThrottlePolicy, clock: Clock = utc_now) -> None:
        self._log = AttemptLog(store, clock)
        self._trusted = store.master[TRUSTED_ADDRESSES]
        self._policy = policy
        self._clock = clock

    async def reserve(self, email: str, address: str, *, trusted: bool = False) -> Attempt:
        """An attempt for one password check, or TooManyAttempts when a key has no room.
        From a `trusted` address (see `trusted`) the per-account limit does not apply."""
        quotas = [Quota(_address_key(address), self._policy.max_per_address, self._policy.window)]
        if not trusted:
            quotas.append(
                Quota(_account_key(email), self._policy.max_per_account, self._policy.window)
            )
        try:
            return Attempt(
                await self._log.reserve(quotas, provisional=True, patience=_PATIENCE_SECONDS)
            )
        except QuotaFull as full:
            raise TooManyAttempts(full.retry_after) from None

    def trusted(self, record: Document | None) -> bool:
        """Whether a trust record (read with the account, under `trust_key`) is still live."""
        until = _until(record)
        return until is not None and until > self._clock()

    async def record_success(
        self, email: str, address: str, record: Document | None = None
    ) -> None:
        """Trust the address for the account, or trust it longer: written when there was no
        record or it was written more than a day ago, not on every login."""
        if self._policy.trust_for <= timedelta(0):
            return
        until = self._clock() + self._policy.trust_for
        recorded = _until(record)
        if recorded is not None and recorded > until - _TRUST_REFRESH:
            return
        await self._trusted.update_one(
            {"_id": trust_key(email, address)}, {"$set": {"expires_at": until}}, upsert=True
        )

    async def is_trusted(self, email: str, address: str) -> bool:
        return self.trusted(
            await self._trusted.find_one({"_id": trust_key(email, address)}, {"expires_at": 1})
        )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _account_key(email: str) -> str:
    return f"login:account:{_digest(email_key(email))}"


def _address_key(address: str) -> str:
    return f"login:address:{address}"


def trust_key(email: str, address: str) -> str:
    """Where the trust in `address` for the account of `email` is recorded."""
    return f"{_digest(email_key(email))}:{address}"


def _until(record: Document | None) -> datetime | None:
    """A trust record's expiry; None for none, or for a value that is no date (which a
    login then writes again)."""
    until = (record or {}).get("expires_at")
    return _aware(until) if isinstance(until, datetime) else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

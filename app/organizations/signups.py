"""Sign-up throttling: organizations created per client address, and in all, per rolling hour.

Each sign-up creates a collection and its indexes, and an account; unthrottled, one client
could fill a cluster's namespace budget. The attempts are kept in MongoDB beside the login
throttle's (`app.sessions.attempts`), so every instance enforces the same limits.
"""

from dataclasses import dataclass
from datetime import timedelta

from app.db.store import Store
from app.errors import TooManyAttempts
from app.sessions.attempts import AttemptLog, Clock, Quota, QuotaFull, utc_now

HOUR = timedelta(hours=1)


class TooManySignups(TooManyAttempts):
    code = "signup_rate_limited"
    detail = "Too many sign-ups; try again later"
    title = "Too many organizations created from this address, or in all, within the hour"


@dataclass(frozen=True, slots=True)
class SignupPolicy:
    """Sign-ups allowed per rolling hour; 0 means no limit."""

    per_address: int
    total: int


class SignupThrottle:
    def __init__(self, store: Store, policy: SignupPolicy, clock: Clock = utc_now) -> None:
        self._log = AttemptLog(store, clock)
        self._policy = policy

    async def admit(self, address: str) -> None:
        """Count one sign-up from `address`, or raise TooManySignups when a limit is reached.

        The attempt is counted whatever the sign-up's outcome, and is never given back: a
        name already taken, a wrong password for an existing account, an undone create or a
        dropped connection all cost the work a sign-up costs, and giving failures back would
        let a client probe names and emails, or start creates, without limit. The number of
        organizations created is bounded all the more. The address is counted first, so one
        address at its limit takes nothing from everyone else's total.
        """
        quotas = []
        if self._policy.per_address:
            quotas.append(Quota(f"signup:address:{address}", self._policy.per_address, HOUR))
        if self._policy.total:
            quotas.append(Quota("signup:all", self._policy.total, HOUR))
        if not quotas:
            return
        try:
            await self._log.reserve(quotas)
        except QuotaFull as full:
            raise TooManySignups(full.retry_after) from None

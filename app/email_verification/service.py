"""Sending verification links and confirming them.

A signed-in account asks for a link; the service sends it through the email delivery
invitations use, and keeps only a hash of its token. The link (or its token, pasted as a
code) works once, until it expires; asking again replaces it. Asking is throttled per
account, across instances: once every `EMAIL_VERIFICATION_RESEND_SECONDS`, and at most
`EMAIL_VERIFICATION_PER_HOUR` times an hour. Confirming needs no sign-in (the link may be
opened on another device): the token is the proof.
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.access.principal import Principal
from app.accounts.repository import AccountRepository
from app.audit.trail import AuditAction, AuditTrail
from app.email_verification.emails import verification_email
from app.email_verification.repository import EmailVerificationRepository
from app.errors import (
    AppError,
    Conflict,
    NotAuthenticated,
    ServiceUnavailable,
    TooManyAttempts,
)
from app.invitations.delivery import EmailSender
from app.sessions.attempts import AttemptLog, Quota, QuotaFull

logger = logging.getLogger(__name__)


class EmailAlreadyVerified(Conflict):
    code = "email_already_verified"
    detail = "Your email address is verified already"


class VerificationLinkInvalid(AppError):
    status_code = 410
    code = "email_verification_link_invalid"
    detail = (
        "This verification link is unknown, has expired, was replaced by a newer one or has "
        "been used: ask for a new one"
    )


class VerificationEmailNotSent(ServiceUnavailable):
    code = "verification_email_not_sent"
    detail = "The verification email could not be sent; try again shortly"


class VerificationRequestsThrottled(TooManyAttempts):
    code = "email_verification_throttled"
    detail = "A verification email was sent a moment ago; wait before asking again"


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    link_lifetime: timedelta
    url_template: str
    resend_after: timedelta
    per_hour: int


@dataclass(frozen=True, slots=True)
class VerificationSent:
    email: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class EmailVerified:
    email: str
    verified_at: datetime


class EmailVerificationService:
    def __init__(
        self,
        links: EmailVerificationRepository,
        accounts: AccountRepository,
        attempts: AttemptLog,
        sender: EmailSender,
        policy: VerificationPolicy,
        audit: AuditTrail,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._links = links
        self._accounts = accounts
        self._attempts = attempts
        self._sender = sender
        self._policy = policy
        self._audit = audit
        self._clock = clock

    async def send(self, principal: Principal) -> VerificationSent:
        """Send a new link to the caller's address (the one before stops working)."""
        account = await self._accounts.get(principal.account_id)
        if account is None:
            raise NotAuthenticated()
        if account.email_verified:
            raise EmailAlreadyVerified()
        await self._admit(principal)
        now = self._clock()
        token = secrets.token_urlsafe(32)
        expires_at = now + self._policy.link_lifetime
        await self._links.issue(account.id, account.email, token, now, expires_at)
        email = verification_email(
            email=account.email,
            link=self._policy.url_template.format(token=token),
            token=token,
            expires_at=expires_at,
        )
        try:
            await self._sender.send(account.email, email.subject, email.text, email.html)
        except Exception:
            logger.exception("could not send the verification email of %s", principal.account_id)
            raise VerificationEmailNotSent() from None
        return VerificationSent(account.email, expires_at)

    async def confirm(self, token: str) -> EmailVerified:
        now = self._clock()
        link = await self._links.take(token, now)
        if link is None:
            raise VerificationLinkInvalid()
        if not await self._accounts.mark_email_verified(link.account_id, link.email, now):
            account = await self._accounts.get(link.account_id)
            # A second link of an account verified meanwhile changes nothing; a link to an
            # address the account no longer has proves nothing.
            if account is None or account.email_verified_at is None:
                raise VerificationLinkInvalid()
            return EmailVerified(account.email, account.email_verified_at)
        account = await self._accounts.get(link.account_id)
        await self._audit.record(
            AuditAction.EMAIL_VERIFY,
            organization_id=account.organization_id if account else None,
            actor_id=link.account_id,
            actor_email=link.email,
            target=link.email,
        )
        return EmailVerified(link.email, now)

    async def _admit(self, principal: Principal) -> None:
        """Count one request, or refuse it with when to ask again."""
        key = f"email-verification:{principal.account_id}"
        quotas: list[Quota] = []
        if self._policy.resend_after > timedelta(0):
            quotas.append(Quota(f"{key}:resend", 1, self._policy.resend_after))
        if self._policy.per_hour:
            quotas.append(Quota(f"{key}:hour", self._policy.per_hour, timedelta(hours=1)))
        if not quotas:
            return
        try:
            await self._attempts.reserve(quotas)
        except QuotaFull as full:
            raise VerificationRequestsThrottled(full.retry_after) from None

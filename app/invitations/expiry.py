"""Announcing expired invitations: an invitation expires by the clock, with no request to
record it, so a sweep notices pending invitations past their expiry and records
`invitation.expired` for each, once (the invitation is marked in the same step the event
commits on, and a resend clears the mark)."""

import logging
from datetime import datetime

import anyio

from app.events.catalogue import EventType
from app.events.models import SYSTEM
from app.events.outbox import Clock, Outbox
from app.invitations.event_subjects import invitation_data, invitation_subject
from app.invitations.repository import InvitationRepository
from app.kit.stopping import step

logger = logging.getLogger(__name__)
_BATCH = 100


class ExpiryNotices:
    def __init__(self, invitations: InvitationRepository, outbox: Outbox, clock: Clock) -> None:
        self._invitations = invitations
        self._outbox = outbox
        self._clock = clock

    async def sweep(self, now: datetime | None = None) -> int:
        """Record the expiry of each pending invitation past it; how many were recorded."""
        noticed = 0
        for invitation in await self._invitations.expired_unnoticed(now or self._clock(), _BATCH):
            async with self._outbox.recording(
                EventType.INVITATION_EXPIRED,
                invitation.organization_id,
                SYSTEM,
                {**invitation_data(invitation), "status": "expired"},
                invitation_subject(invitation, expiry_noticed=True),
            ) as draft:
                if await self._invitations.notice_expiry(invitation):
                    noticed += 1
                else:
                    draft.skip()
        return noticed

    async def run_periodically(self, every_seconds: float) -> None:
        while True:
            await anyio.sleep(every_seconds)
            try:
                await step(self.sweep())
            except Exception:
                logger.exception("could not announce expired invitations; trying again later")

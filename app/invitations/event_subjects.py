"""How recovery reads an invitation to judge a pending event about it."""

from typing import Any

from bson import ObjectId

from app.events.models import Subject
from app.events.outbox import SubjectReader
from app.invitations.models import Invitation
from app.invitations.repository import InvitationRepository
from app.kit.times import rfc3339

INVITATION = "invitation"
# A new or renewed link: the invitation whose current link it is exists once the change is in.
INVITATION_LINK = "invitation_link"


def invitation_subject(invitation: Invitation, **expect: Any) -> Subject:
    key = {"id": str(invitation.id), "organization_id": str(invitation.organization_id)}
    return Subject(INVITATION, key, expect)


def link_subject(digest: str) -> Subject:
    return Subject(INVITATION_LINK, {"digest": digest})


def invitation_reader(invitations: InvitationRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        organization_id, invitation_id = ObjectId(key["organization_id"]), ObjectId(key["id"])
        invitation = await invitations.get(organization_id, invitation_id)
        if invitation is None:
            return None
        noticed = await invitations.expiry_noticed(organization_id, invitation_id)
        return {"status": invitation.status.value, "expiry_noticed": noticed}

    return read


def link_reader(invitations: InvitationRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        invitation = await invitations.find_by_digest(key["digest"])
        return {"status": invitation.status.value} if invitation else None

    return read


def invitation_data(invitation: Invitation) -> dict[str, Any]:
    """The invitation as the API shows it (never its link)."""
    return {
        "id": str(invitation.id),
        "email": invitation.email,
        "role": invitation.role,
        "status": invitation.status.value,
        "invited_by": str(invitation.invited_by),
        "created_at": rfc3339(invitation.created_at),
        "expires_at": rfc3339(invitation.expires_at),
    }

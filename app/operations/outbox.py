"""The event outbox with a reader for every kind of subject its events are about: for the
service (`app.api.state`) and for operator commands that change organizations."""

from datetime import timedelta

from app.accounts.event_subjects import MEMBERSHIP, membership_reader
from app.accounts.memberships import MembershipRepository
from app.apikeys.event_subjects import API_KEY, key_reader
from app.apikeys.repository import ApiKeyRepository
from app.config import Settings
from app.db.store import Store
from app.documents.events import DOCUMENT, document_reader
from app.domains.event_subjects import (
    DOMAIN,
    JOIN_REQUEST,
    domain_reader,
    join_request_reader,
)
from app.domains.repository import DomainRepository, JoinRequestRepository
from app.events.outbox import Outbox
from app.events.repository import EventRepository
from app.events.subjects import ORGANIZATION, organization_reader
from app.invitations.event_subjects import (
    INVITATION,
    INVITATION_LINK,
    invitation_reader,
    link_reader,
)
from app.invitations.repository import InvitationRepository
from app.registry.repository import OrganizationRepository
from app.roles.event_subjects import ROLE, role_reader
from app.roles.repository import RoleRepository
from app.webhooks.endpoint_subjects import WEBHOOK_ENDPOINT, endpoint_reader
from app.webhooks.repository import EndpointRepository
from app.workspaces.access import WorkspaceAccess
from app.workspaces.event_subjects import (
    WORKSPACE,
    WORKSPACE_MEMBER,
    WORKSPACE_NAMED,
    named_reader,
    seat_reader,
    workspace_reader,
)


def build_outbox(settings: Settings, store: Store) -> Outbox:
    outbox = Outbox(EventRepository(store), timedelta(days=settings.event_retention_days))
    invitations = InvitationRepository(store)
    workspaces = WorkspaceAccess(store)
    outbox.register(ORGANIZATION, organization_reader(OrganizationRepository(store)))
    outbox.register(MEMBERSHIP, membership_reader(MembershipRepository(store)))
    outbox.register(INVITATION, invitation_reader(invitations))
    outbox.register(INVITATION_LINK, link_reader(invitations))
    outbox.register(WORKSPACE, workspace_reader(workspaces.workspaces))
    outbox.register(WORKSPACE_NAMED, named_reader(workspaces.workspaces))
    outbox.register(WORKSPACE_MEMBER, seat_reader(workspaces.members))
    outbox.register(WEBHOOK_ENDPOINT, endpoint_reader(EndpointRepository(store)))
    outbox.register(ROLE, role_reader(RoleRepository(store)))
    outbox.register(API_KEY, key_reader(ApiKeyRepository(store)))
    outbox.register(DOCUMENT, document_reader(store, OrganizationRepository(store)))
    outbox.register(DOMAIN, domain_reader(DomainRepository(store)))
    outbox.register(JOIN_REQUEST, join_request_reader(JoinRequestRepository(store)))
    return outbox

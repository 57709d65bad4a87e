"""What belongs to an organization outside its registry entry and its tenant collection:
memberships, workspaces, invitations, API keys, custom roles, webhook endpoints, domains,
join requests, and the accounts whose home it is."""

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.accounts.models import Account
from app.accounts.repository import AccountRepository, EmailTaken
from app.apikeys.repository import ApiKeyRepository
from app.domains.repository import DomainRepository, JoinRequestRepository
from app.invitations.repository import InvitationRepository
from app.registry.errors import EmailAlreadyRegistered
from app.registry.models import Organization
from app.roles.repository import RoleRepository
from app.webhooks.dormancy import OrganizationWebhooks
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import WorkspaceRole


class Belongings:
    def __init__(
        self,
        accounts: AccountRepository,
        memberships: MembershipRepository,
        invitations: InvitationRepository,
        workspaces: WorkspaceAccess,
        keys: ApiKeyRepository,
        roles: RoleRepository,
        webhooks: OrganizationWebhooks,
        domains: DomainRepository,
        join_requests: JoinRequestRepository,
    ) -> None:
        self._roles = roles
        self.webhooks = webhooks
        self._accounts = accounts
        self._memberships = memberships
        self._invitations = invitations
        self._workspaces = workspaces
        self._keys = keys
        self._domains = domains
        self._join_requests = join_requests

    async def seat_owner(self, organization: Organization, new_account: Account | None) -> None:
        """Make the organization's admin its owner (creating the account when it is new),
        admin of the default workspace."""
        if new_account is not None:
            try:
                await self._accounts.insert(new_account)
            except EmailTaken:
                raise EmailAlreadyRegistered() from None
        await self._memberships.add(organization.admin_id, organization.id, Role.OWNER)
        default = await self._workspaces.workspaces.first_default(organization.id)
        await self._workspaces.members.put(
            organization.id, default.id, organization.admin_id, WorkspaceRole.ADMIN
        )

    async def remove_owner(self, organization: Organization) -> None:
        """Undo `seat_owner` (for a create that did not finish)."""
        await self._memberships.remove_account_from(organization.admin_id, organization.id)
        await self._remove_workspaces(organization)
        await self._settle_accounts_homed_in(organization)

    async def remove_all(self, organization: Organization) -> None:
        """Everything, for a deleted organization, but its webhook endpoints: the lifecycle
        retires them (`webhooks.retire`) and the delivery worker removes them once their last
        deliveries are made."""
        await self._memberships.remove_all_of_organization(organization.id)
        await self._remove_workspaces(organization)
        await self._settle_accounts_homed_in(organization)
        await self._invitations.delete_for_organization(organization.id)
        await self._keys.delete_for_organization(organization.id)
        await self._roles.delete_for_organization(organization.id)
        # Its verified domains are free for another organization to verify.
        await self._domains.delete_for_organization(organization.id)
        await self._join_requests.delete_for_organization(organization.id)

    async def _remove_workspaces(self, organization: Organization) -> None:
        await self._workspaces.members.delete_for_organization(organization.id)
        await self._workspaces.workspaces.delete_for_organization(organization.id)

    async def _settle_accounts_homed_in(self, organization: Organization) -> None:
        """Accounts whose home was the organization: deleted when it was their only
        membership, moved to their earliest remaining membership otherwise."""
        for account_id in await self._accounts.homed_in(organization.id):
            remaining = await self._memberships.for_account(account_id)
            remaining = [m for m in remaining if m.organization_id != organization.id]
            if remaining:
                await self._accounts.set_home(account_id, remaining[0].organization_id)
            else:
                await self._accounts.delete(account_id)

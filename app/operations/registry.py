"""The repositories operator commands read, and the reads that combine several of them.

Operators look at every organization whatever its state, which the service deliberately does
not; every such read is a named repository query.
"""

from bson import ObjectId

from app.accounts.memberships import MembershipRepository
from app.accounts.repository import AccountRepository
from app.db.store import Document, Store, TenantNamespace
from app.operations.tenant_catalog import namespaces_named_by
from app.plans import Plan
from app.registry.claims import IdentifierClaims
from app.registry.repository import OrganizationFilter, OrganizationRepository


class OperatorRegistry:
    def __init__(self, store: Store, *, default_plan: Plan = Plan.FREE) -> None:
        self._store = store
        self.organizations = OrganizationRepository(store)
        self.accounts = AccountRepository(store)
        self.memberships = MembershipRepository(store)
        self.claims = IdentifierClaims(store)
        self._default_plan = default_plan

    async def list_organizations(self, where: OrganizationFilter) -> list[Document]:
        return await self.organizations.search(where, self._default_plan.value)

    async def points_to(self, namespace: TenantNamespace) -> bool:
        """Whether any organization uses the collection, or is moving to or from it."""
        return any(
            namespace in namespaces_named_by(document, self._store.default_tenant_db)
            for document in await self.organizations.holders_of(namespace.collection)
        )

    async def owner_emails(self, organization_id: ObjectId) -> list[str]:
        owners = await self.memberships.owner_ids(organization_id)
        return sorted((await self.accounts.emails_of(owners)).values())

    async def accounts_without_membership(self) -> list[tuple[ObjectId, str]]:
        # Both streams come in account-id order, so one merge finds the accounts no
        # membership names without holding every id in memory.
        members = self.memberships.account_ids_in_order()
        member = await anext(members, None)
        lonely: list[tuple[ObjectId, str]] = []
        async for account_id, email in self.accounts.emails_in_order():
            key = str(account_id)
            while member is not None and member < key:
                member = await anext(members, None)
            if member != key:
                lonely.append((account_id, email))
        await members.aclose()
        return lonely

    async def totals(self) -> dict[str, int]:
        return {
            "organizations": await self.organizations.count(),
            "accounts": await self.accounts.count(),
            "memberships": await self.memberships.count(),
            "identifier claims": await self.claims.count(),
        }

    def plan_of(self, organization: Document) -> str:
        plan = organization.get("plan")
        return plan if isinstance(plan, str) and plan else self._default_plan.value

"""Request and response bodies of the platform management API (`/api/v1/admin`)."""

from typing import Self

from pydantic import BaseModel, Field, model_validator

from app.access.credentials import Email, Password
from app.accounts.models import Account
from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.organizations.schemas import OrganizationName
from app.organizations.v1_schemas import Profile, Statistics
from app.plans import Plan
from app.platform.administration import AccountOrganization, ManagedOrganization, OrganizationRow
from app.registry.models import Organization
from app.roles.schemas import BuiltinRoleName


class OrganizationListed(BaseModel):
    id: str
    organization_name: str
    organization_identifier: str
    status: str
    state: str = Field(description="`active`, or the lifecycle operation under way.")
    plan: Plan
    domain: str | None
    tenant_collection: str
    created_at: Timestamp

    @classmethod
    def of(cls, row: OrganizationRow) -> "OrganizationListed":
        organization = row.organization
        return cls(
            id=str(organization.id),
            organization_name=organization.name,
            organization_identifier=organization.identifier,
            status=organization.status.value,
            state=organization.state.value,
            plan=row.plan,
            domain=row.domain,
            tenant_collection=organization.tenant_collection,
            created_at=organization.created_at,
        )


class OwnerRead(BaseModel):
    account_id: str
    email: str


class ManagedOrganizationRead(BaseModel):
    id: str
    organization_name: str
    organization_identifier: str
    status: str
    state: str
    plan: Plan
    tenant_collection: str
    tenant_database: str
    profile: Profile
    statistics: Statistics
    owners: list[OwnerRead]
    created_at: Timestamp
    modified_at: Timestamp

    @classmethod
    def of(cls, managed: ManagedOrganization) -> "ManagedOrganizationRead":
        details = managed.details
        organization = details.organization
        statistics = details.statistics
        return cls(
            id=str(organization.id),
            organization_name=organization.name,
            organization_identifier=organization.identifier,
            status=organization.status.value,
            state=organization.state.value,
            plan=managed.plan,
            tenant_collection=organization.tenant_collection,
            tenant_database=details.tenant_database,
            profile=Profile(**details.profile),
            statistics=Statistics(
                members=statistics.members,
                pending_invitations=statistics.pending_invitations,
                tenant_documents=statistics.tenant_documents,
                tenant_storage_bytes=statistics.tenant_storage_bytes,
            ),
            owners=[OwnerRead(account_id=str(o.account_id), email=o.email) for o in managed.owners],
            created_at=organization.created_at,
            modified_at=organization.modified_at,
        )


class ManagedOrganizationCreated(BaseModel):
    id: str
    organization_name: str
    organization_identifier: str
    tenant_collection: str
    admin_email: str

    @classmethod
    def of(cls, organization: Organization, admin_email: str) -> "ManagedOrganizationCreated":
        return cls(
            id=str(organization.id),
            organization_name=organization.name,
            organization_identifier=organization.identifier,
            tenant_collection=organization.tenant_collection,
            admin_email=admin_email,
        )


class PlatformAccountRead(BaseModel):
    id: str
    email: str
    home_organization_id: str = Field(description="The organization the account logs in to.")
    created_at: Timestamp

    @classmethod
    def of(cls, account: Account) -> "PlatformAccountRead":
        return cls(
            id=str(account.id),
            email=account.email,
            home_organization_id=str(account.organization_id),
            created_at=account.created_at,
        )


class AccountOrganizationRead(BaseModel):
    id: str
    organization_name: str
    organization_identifier: str
    status: str
    role: str
    joined_at: Timestamp

    @classmethod
    def of(cls, pair: AccountOrganization) -> "AccountOrganizationRead":
        organization = pair.organization
        return cls(
            id=str(organization.id),
            organization_name=organization.name,
            organization_identifier=organization.identifier,
            status=organization.status.value,
            role=pair.membership.role,
            joined_at=pair.membership.created_at,
        )


class PlatformOrganizationCreate(RequestBody):
    """The owner is an existing account (`owner_account_id` or `owner_email`), or a new
    account made with `owner_email` and `owner_password`."""

    organization_name: OrganizationName
    owner_account_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{24}$")
    owner_email: Email | None = None
    owner_password: Password | None = Field(
        default=None, description="Only for a new account; an existing account keeps its own."
    )

    @model_validator(mode="after")
    def _one_owner(self) -> Self:
        if self.owner_account_id is not None and self.owner_email is not None:
            raise ValueError("give owner_account_id or owner_email, not both")
        if self.owner_account_id is None and self.owner_email is None:
            raise ValueError("give owner_account_id or owner_email")
        return self


class MemberAdd(RequestBody):
    account_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{24}$")
    email: Email | None = None
    role: BuiltinRoleName = "member"

    @model_validator(mode="after")
    def _one_account(self) -> Self:
        if (self.account_id is None) == (self.email is None):
            raise ValueError("give account_id or email (one of them)")
        return self


class PlanChange(RequestBody):
    plan: Plan

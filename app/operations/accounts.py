"""Giving an organization an owner, and setting a forgotten password, on an operator's word."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId
from pydantic import TypeAdapter, ValidationError

from app.access.credentials import Email
from app.access.passwords import PasswordHasher, password_problem
from app.access.roles import Role, RoleName
from app.accounts.event_subjects import membership_subject
from app.accounts.memberships import AlreadyMember, MembershipRepository
from app.accounts.models import Account, Membership
from app.accounts.repository import AccountRepository, EmailTaken
from app.config import Settings
from app.db.store import Store
from app.events.catalogue import EventType
from app.events.models import OPERATOR
from app.operations.errors import UnacceptableInput, UnknownAccount
from app.operations.organizations import resolve_organization
from app.operations.outbox import build_outbox
from app.registry.models import LifecycleState, Organization
from app.registry.repository import OrganizationRepository

# Asked only when a password is needed (a new account): the command line prompts for it.
PasswordSource = Callable[[], str]

_EMAIL = TypeAdapter(Email)


@dataclass(frozen=True, slots=True)
class OwnerOutcome:
    organization: str
    email: str
    account_created: bool
    # The account's role before, None when it was not a member.
    previous_role: RoleName | None


async def make_owner(
    store: Store, settings: Settings, reference: str, email: str, password: PasswordSource
) -> OwnerOutcome:
    """Make the account with `email` (created when missing) an owner of the organization."""
    organization = await resolve_organization(store, settings, reference)
    if organization.state not in {LifecycleState.ACTIVE, LifecycleState.RENAMING}:
        raise UnacceptableInput(
            f"Organization {organization.name!r} is {organization.state.value}: it is being "
            "created or deleted; settle it with `repair` first"
        )
    address = _valid_email(email)
    accounts = AccountRepository(store)
    account = await accounts.find_by_email(address)
    created = account is None
    if account is None:
        account = await _new_account(accounts, settings, organization, address, password())
    memberships = MembershipRepository(store)
    owners_before = await memberships.count_for_organization(organization.id, Role.OWNER)
    membership = await memberships.get(account.id, organization.id)
    outbox = build_outbox(settings, store)
    owner = membership_subject(account.id, organization.id, role=Role.OWNER.value)
    data = {"account_id": str(account.id), "email": account.email, "role": Role.OWNER.value}
    if membership is None:
        try:
            async with outbox.recording(
                EventType.MEMBER_ADDED, organization.id, OPERATOR, data, owner
            ):
                await memberships.add(account.id, organization.id, Role.OWNER)
            await _count_new_owner(store, organization.id, account.id, owners_before)
            return OwnerOutcome(organization.name, account.email, created, None)
        except AlreadyMember:  # joined meanwhile; promote below
            membership = await memberships.get(account.id, organization.id)
    if membership is None or membership.role == Role.OWNER:
        return OwnerOutcome(organization.name, account.email, created, Role.OWNER)
    async with outbox.recording(
        EventType.MEMBER_ROLE_CHANGED,
        organization.id,
        OPERATOR,
        {**data, "previous_role": membership.role},
        owner,
    ):
        await _promote(store, membership, owners_before)
    return OwnerOutcome(organization.name, account.email, created, membership.role)


async def reset_password(
    store: Store, settings: Settings, email: str, password: PasswordSource
) -> str:
    """Store a new password hash; tokens issued to the account before stop working."""
    accounts = AccountRepository(store)
    account = await accounts.find_by_email(email)
    if account is None:
        raise UnknownAccount(email)
    await accounts.set_password(account.id, await _hash(settings, password()))
    return account.email


async def _new_account(
    accounts: AccountRepository,
    settings: Settings,
    organization: Organization,
    email: str,
    password: str,
) -> Account:
    account = Account(
        id=ObjectId(),
        email=email,
        password_hash=await _hash(settings, password),
        organization_id=organization.id,
        created_at=datetime.now(UTC),
    )
    try:
        await accounts.insert(account)
    except EmailTaken:
        raise UnacceptableInput(f"An account with the email {email!r} was just created") from None
    return account


async def _promote(store: Store, membership: Membership, owners_before: int) -> None:
    # Conditional on the role read: a concurrent role change makes this a no-op, not a clash.
    if await MembershipRepository(store).change_role(membership, Role.OWNER):
        await _count_new_owner(
            store, membership.organization_id, membership.account_id, owners_before
        )


async def _count_new_owner(
    store: Store, organization_id: ObjectId, account_id: ObjectId, owners_before: int
) -> None:
    organizations = OrganizationRepository(store)
    if owners_before:
        await organizations.add_owner_seat(organization_id)
        return
    # An organization that had lost every owner may carry any count (nothing in the service
    # can change it without an owner); it now has exactly one, who also becomes the admin
    # the contract endpoints report as `admin_email`.
    await OrganizationRepository(store).reset_owner_count(organization_id, 1)
    await organizations.set_admin(organization_id, account_id)


def _valid_email(email: str) -> str:
    try:
        return str(_EMAIL.validate_python(email))
    except ValidationError:
        raise UnacceptableInput(f"{email!r} is not a valid email address") from None


async def _hash(settings: Settings, password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise UnacceptableInput(f"The password {problem}")
    hasher = PasswordHasher(settings.bcrypt_rounds, workers=1)
    try:
        return await hasher.hash(password)
    finally:
        hasher.close()

"""`/api/v1/organizations/{org_id}/domains`: the mail domains an organization proves it owns;
and joining by them: `/api/v1/organizations/joinable`, `.../{org_id}/join`,
`.../{org_id}/join-requests`."""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Request, Response, status

from app.access.permissions import Permission, who_may
from app.access.roles import Role
from app.api.bodies import CheckedBodyRoute
from app.api.deps import (
    SCOPED_ERRORS,
    CurrentPrincipal,
    DomainsDep,
    JoiningDep,
    MemberManager,
    OrganizationEditor,
    OrganizationPath,
    OrganizationReader,
)
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import AUTHENTICATION, Message, errors
from app.apikeys.service import ApiKeyNotAllowed
from app.db.ids import parse_object_id
from app.domains.joining import (
    EmailNotVerified,
    JoinRequestDecided,
    JoinRequestNotFound,
    JoinRequestPending,
    NotJoinable,
)
from app.domains.models import JoinPolicy
from app.domains.names import DomainRefused
from app.domains.schemas import (
    DomainCreate,
    DomainRead,
    DomainUpdate,
    JoinableList,
    JoinableRead,
    JoinApproval,
    JoinRequestRead,
    JoinResult,
)
from app.domains.service import (
    DomainAlreadyAdded,
    DomainChange,
    DomainClaimedElsewhere,
    DomainNotFound,
    DomainNotVerified,
)
from app.errors import PreconditionFailed
from app.invitations.seats import MemberLimitReached
from app.invitations.service import AlreadyAMember
from app.registry.errors import OrganizationBusy, OrganizationSuspended

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/domains",
    tags=["domains"],
    generate_unique_id_function=operation_ids("domains"),
)
joining_router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations",
    tags=["joining"],
    generate_unique_id_function=operation_ids("joining"),
)

DomainPath = Annotated[str, Path(description="The domain's id (24 hex digits).")]
RequestPath = Annotated[str, Path(description="The join request's id (24 hex digits).")]
READ = who_may(Permission.READ_ORGANIZATION)
EDIT = who_may(Permission.EDIT_ORGANIZATION)
DECIDE = (
    f"{who_may(Permission.MANAGE_MEMBERS)} Giving the admin role takes an owner, as inviting "
    "an admin does."
)


def _domain_id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise DomainNotFound()
    return parsed


def _request_id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise JoinRequestNotFound()
    return parsed


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a domain (then publish its TXT record and verify it)",
    description=f"{EDIT} Consumer mail domains (gmail.com ...) are refused.",
    responses=errors(*SCOPED_ERRORS, DomainRefused, DomainAlreadyAdded, OrganizationSuspended),
)
async def add(
    body: DomainCreate,
    caller: OrganizationEditor,
    domains: DomainsDep,
    request: Request,
    response: Response,
) -> DomainRead:
    domain = await domains.add(caller, body.domain)
    response.headers["Location"] = f"{request.url.path}/{domain.id}"
    return DomainRead.of(domain)


@router.get(
    "",
    name="list",
    summary="The organization's domains, oldest first",
    description=READ,
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def list_domains(
    caller: OrganizationReader, domains: DomainsDep, page: PageQuery
) -> Page[DomainRead]:
    listed = await domains.list(caller, page.window)
    return Page.of([DomainRead.of(domain) for domain in listed.items], listed, page)


@router.get(
    "/{domain_id}",
    summary="One domain, with the TXT record that proves it",
    description=READ,
    responses=errors(*SCOPED_ERRORS, DomainNotFound),
)
async def read(
    domain_id: DomainPath, caller: OrganizationReader, domains: DomainsDep
) -> DomainRead:
    return DomainRead.of(await domains.get(caller, _domain_id(domain_id)))


@router.patch(
    "/{domain_id}",
    summary="Set a domain's join policy and default role",
    description=f"{EDIT} A default role of admin takes an owner.",
    responses=errors(*SCOPED_ERRORS, DomainNotFound, OrganizationSuspended, PreconditionFailed),
)
async def update(
    domain_id: DomainPath, body: DomainUpdate, caller: OrganizationEditor, domains: DomainsDep
) -> DomainRead:
    change = DomainChange(
        join_policy=JoinPolicy(body.join_policy) if body.join_policy else None,
        default_role=Role(body.default_role) if body.default_role else None,
    )
    return DomainRead.of(await domains.update(caller, _domain_id(domain_id), change))


@router.delete(
    "/{domain_id}",
    summary="Remove a domain: nobody joins by it any more",
    description=EDIT,
    responses=errors(*SCOPED_ERRORS, DomainNotFound, PreconditionFailed),
)
async def remove(domain_id: DomainPath, caller: OrganizationEditor, domains: DomainsDep) -> Message:
    await domains.remove(caller, _domain_id(domain_id))
    return Message(message="Domain removed")


@router.post(
    "/{domain_id}/verify",
    summary="Look the domain's TXT record up now",
    description=(
        f"{EDIT} `409 domain_not_verified` says why when the record is not found (the "
        "name does not exist, has no TXT record, none with the token, or DNS did not "
        "answer); a verified domain whose record is gone becomes `lapsed`."
    ),
    responses=errors(
        *SCOPED_ERRORS,
        DomainNotFound,
        DomainNotVerified,
        DomainClaimedElsewhere,
        OrganizationSuspended,
    ),
)
async def verify(
    domain_id: DomainPath, caller: OrganizationEditor, domains: DomainsDep
) -> DomainRead:
    return DomainRead.of(await domains.verify(caller, _domain_id(domain_id)))


@joining_router.get(
    "/joinable",
    summary="Organizations you may join by your verified email's domain",
    responses=errors(*AUTHENTICATION, ApiKeyNotAllowed, EmailNotVerified),
)
async def joinable(caller: CurrentPrincipal, joining: JoiningDep) -> JoinableList:
    """Any signed-in account with a verified email: the organization that verified its
    email's domain with the join policy `suggest` or `auto`, unless already a member."""
    found = await joining.joinable(caller)
    return JoinableList(organizations=[JoinableRead.of(item) for item in found])


@joining_router.post(
    "/{org_id}/join",
    summary="Join an organization by your verified email's domain (or ask to)",
    responses={
        202: {"model": JoinResult, "description": "The policy is `suggest`: a request waits."},
        **errors(
            *AUTHENTICATION,
            ApiKeyNotAllowed,
            EmailNotVerified,
            NotJoinable,
            AlreadyAMember,
            JoinRequestPending,
            MemberLimitReached,
            OrganizationSuspended,
            OrganizationBusy,
        ),
    },
)
async def join(
    org_id: OrganizationPath, caller: CurrentPrincipal, joining: JoiningDep, response: Response
) -> JoinResult:
    """Any signed-in account with a verified email at a domain the organization verified.
    Policy `auto`: `200`, a member at once with the domain's default role, within the
    plan's member limit (pending invitations count); get a token for it with
    `POST /api/v1/auth/switch`. Policy `suggest`: `202`, a join request for owners and
    admins to decide."""
    organization_id = parse_object_id(org_id)
    if organization_id is None:
        raise NotJoinable()
    outcome = await joining.join(caller, organization_id)
    if not outcome.joined:
        response.status_code = status.HTTP_202_ACCEPTED
    return JoinResult.of(outcome)


@joining_router.get(
    "/{org_id}/join-requests",
    summary="Pending join requests, oldest first",
    description=DECIDE,
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def list_requests(
    caller: MemberManager, joining: JoiningDep, page: PageQuery
) -> Page[JoinRequestRead]:
    listed = await joining.list_pending(caller, page.window)
    return Page.of([JoinRequestRead.of(item) for item in listed.items], listed, page)


@joining_router.get(
    "/{org_id}/join-requests/{request_id}",
    summary="One join request, whatever its status",
    description=DECIDE,
    responses=errors(*SCOPED_ERRORS, JoinRequestNotFound),
)
async def read_request(
    request_id: RequestPath, caller: MemberManager, joining: JoiningDep
) -> JoinRequestRead:
    return JoinRequestRead.of(await joining.get(caller, _request_id(request_id)))


@joining_router.post(
    "/{org_id}/join-requests/{request_id}/approve",
    summary="Approve a join request: the person becomes a member",
    description=DECIDE,
    responses=errors(
        *SCOPED_ERRORS,
        JoinRequestNotFound,
        JoinRequestDecided,
        AlreadyAMember,
        MemberLimitReached,
        OrganizationSuspended,
        OrganizationBusy,
    ),
)
async def approve(
    request_id: RequestPath,
    caller: MemberManager,
    joining: JoiningDep,
    body: JoinApproval | None = None,
) -> JoinRequestRead:
    role = Role(body.role) if body and body.role else None
    return JoinRequestRead.of(await joining.approve(caller, _request_id(request_id), role))


@joining_router.post(
    "/{org_id}/join-requests/{request_id}/deny",
    summary="Deny a join request",
    description=DECIDE,
    responses=errors(*SCOPED_ERRORS, JoinRequestNotFound, JoinRequestDecided),
)
async def deny(
    request_id: RequestPath, caller: MemberManager, joining: JoiningDep
) -> JoinRequestRead:
    return JoinRequestRead.of(await joining.deny(caller, _request_id(request_id)))

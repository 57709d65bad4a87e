"""Request and response bodies of the domain and joining endpoints."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.domains.dns_check import record_name, record_value
from app.domains.joining import Joinable, JoinOutcome
from app.domains.models import Domain, JoinPolicy, JoinRequest
from app.kit.request_body import RequestBody
from app.kit.times import Timestamp

JoinPolicyName = Literal["manual", "suggest", "auto"]
JoiningRole = Literal["admin", "billing_admin", "member", "viewer"]


class DomainCreate(RequestBody):
    domain: Annotated[
        str,
        Field(
            min_length=1,
            max_length=300,
            description="A domain your organization's mail addresses use, like `techcorp.com` "
            "(internationalized names are accepted and kept in their ASCII form).",
            examples=["techcorp.com"],
        ),
    ]


class DomainUpdate(RequestBody):
    join_policy: JoinPolicyName | None = Field(
        default=None,
        description="`manual`: joining only by invitation. `suggest`: accounts with a "
        "verified email at the domain may ask to join. `auto`: they join at once, with "
        "`default_role`. Applies only while the domain is verified.",
    )
    default_role: JoiningRole | None = Field(
        default=None, description="The role people join with (never above your own)."
    )


class TxtRecord(BaseModel):
    type: Literal["TXT"] = "TXT"
    name: str = Field(description="Where to publish it.", examples=["_tenantry-challenge.x.com"])
    value: str = Field(description="What it must say.")


class DomainRead(BaseModel):
    id: str
    domain: str
    status: Literal["pending", "verified", "lapsed"] = Field(
        description="`pending` until the TXT record is found; `lapsed` when a later check "
        "found it gone (verify again once it is back)."
    )
    join_policy: JoinPolicyName
    default_role: str
    record: TxtRecord = Field(description="The DNS record that proves the domain is yours.")
    verified_at: Timestamp | None
    last_checked_at: Timestamp | None
    last_check_error: str | None = Field(description="Why the last check did not find it.")
    lapsed_at: Timestamp | None
    created_at: Timestamp
    created_by: str

    @classmethod
    def of(cls, domain: Domain) -> "DomainRead":
        return cls(
            id=str(domain.id),
            domain=domain.domain,
            status=domain.status.value,
            join_policy=domain.join_policy.value,
            default_role=domain.default_role.value,
            record=TxtRecord(name=record_name(domain.domain), value=record_value(domain.token)),
            verified_at=domain.verified_at,
            last_checked_at=domain.last_checked_at,
            last_check_error=domain.last_check_error,
            lapsed_at=domain.lapsed_at,
            created_at=domain.created_at,
            created_by=str(domain.created_by),
        )


class JoinableRead(BaseModel):
    organization_id: str
    organization_name: str
    domain: str
    join_policy: Literal["suggest", "auto"] = Field(
        description="`auto`: joining makes you a member at once; `suggest`: it asks."
    )
    role: str = Field(description="The role you would join with.")

    @classmethod
    def of(cls, joinable: Joinable) -> "JoinableRead":
        return cls(
            organization_id=str(joinable.organization.id),
            organization_name=joinable.organization.name,
            domain=joinable.domain.domain,
            join_policy="auto" if joinable.domain.join_policy is JoinPolicy.AUTO else "suggest",
            role=joinable.domain.default_role.value,
        )


class JoinableList(BaseModel):
    organizations: list[JoinableRead]


class JoinResult(BaseModel):
    organization_id: str
    status: Literal["joined", "requested"]
    role: str | None = Field(description="Your role, once joined.")
    request_id: str | None = Field(description="The join request, when one waits.")

    @classmethod
    def of(cls, outcome: JoinOutcome) -> "JoinResult":
        return cls(
            organization_id=str(outcome.organization_id),
            status="joined" if outcome.joined else "requested",
            role=outcome.role.value if outcome.role else None,
            request_id=str(outcome.request.id) if outcome.request else None,
        )


class JoinRequestRead(BaseModel):
    id: str
    account_id: str
    email: str
    domain: str
    status: Literal["pending", "approved", "denied"]
    role: str | None = Field(description="The role given, once approved.")
    created_at: Timestamp
    decided_at: Timestamp | None
    decided_by: str | None

    @classmethod
    def of(cls, request: JoinRequest) -> "JoinRequestRead":
        return cls(
            id=str(request.id),
            account_id=str(request.account_id),
            email=request.email,
            domain=request.domain,
            status=request.status.value,
            role=request.role.value if request.role else None,
            created_at=request.created_at,
            decided_at=request.decided_at,
            decided_by=str(request.decided_by) if request.decided_by else None,
        )


class JoinApproval(RequestBody):
    role: JoiningRole | None = Field(
        default=None, description="The role to give; default: the domain's default role."
    )

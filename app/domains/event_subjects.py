"""How recovery reads a domain or a join request to judge a pending event about it."""

from typing import Any

from bson import ObjectId

from app.domains.models import Domain, JoinRequest
from app.domains.repository import DomainRepository, JoinRequestRepository
from app.events.models import Subject
from app.events.outbox import SubjectReader
from app.kit.times import rfc3339

DOMAIN = "domain"
JOIN_REQUEST = "join_request"


def domain_subject(domain_id: ObjectId, **expect: Any) -> Subject:
    return Subject(DOMAIN, {"id": str(domain_id)}, expect)


def join_request_subject(request_id: ObjectId, **expect: Any) -> Subject:
    return Subject(JOIN_REQUEST, {"id": str(request_id)}, expect)


def domain_data(domain: Domain) -> dict[str, Any]:
    return {
        "id": str(domain.id),
        "domain": domain.domain,
        "status": domain.status.value,
        "join_policy": domain.join_policy.value,
        "default_role": domain.default_role.value,
        "verified_at": rfc3339(domain.verified_at) if domain.verified_at else None,
    }


def join_request_data(request: JoinRequest) -> dict[str, Any]:
    return {
        "id": str(request.id),
        "account_id": str(request.account_id),
        "email": request.email,
        "domain": request.domain,
        "status": request.status.value,
        "role": request.role.value if request.role else None,
    }


def domain_reader(domains: DomainRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        domain = await domains.read_by_id(ObjectId(key["id"]))
        if domain is None:
            return None
        return {
            "status": domain.status.value,
            "join_policy": domain.join_policy.value,
            "default_role": domain.default_role.value,
        }

    return read


def join_request_reader(requests: JoinRequestRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        request = await requests.read_by_id(ObjectId(key["id"]))
        return {"status": request.status.value} if request else None

    return read

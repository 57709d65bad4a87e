"""How recovery reads a custom role to judge a pending event about it."""

from typing import Any

from bson import ObjectId

from app.events.models import Subject
from app.events.outbox import SubjectReader
from app.kit.times import rfc3339
from app.roles.models import CustomRole
from app.roles.repository import RoleRepository

ROLE = "role"


def role_subject(organization_id: ObjectId, slug: str, **expect: Any) -> Subject:
    return Subject(ROLE, {"organization_id": str(organization_id), "slug": slug}, expect)


def role_data(role: CustomRole) -> dict[str, Any]:
    """The role as the API shows it."""
    return {
        "slug": role.slug,
        "name": role.name,
        "description": role.description,
        "permissions": sorted(p.value for p in role.permissions),
        "builtin": False,
        "created_at": rfc3339(role.created_at),
    }


def role_reader(roles: RoleRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        role = await roles.get(ObjectId(key["organization_id"]), key["slug"])
        return {"version": role.version} if role else None

    return read

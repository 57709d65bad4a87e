"""Request and response bodies of the permission catalogue and role endpoints."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from app.access.permissions import BUILTIN_PERMISSIONS, CATALOGUE, Permission
from app.access.roles import ROLE_NAME_MAX_LENGTH, ROLE_NAME_PATTERN
from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.roles.service import RoleView

BuiltinRoleName = Literal["owner", "admin", "billing_admin", "member", "viewer"]
# A role as a request names it: a built-in role or one of the organization's custom roles.
AssignedRole = Annotated[
    str,
    Field(
        pattern=ROLE_NAME_PATTERN,
        max_length=ROLE_NAME_MAX_LENGTH,
        description="A built-in role (owner, admin, billing_admin, member, viewer) or the "
        "slug of one of the organization's custom roles.",
        examples=["member"],
    ),
]


class PermissionRead(BaseModel):
    name: str = Field(description="The permission's stable machine name.")
    description: str
    owner_only: bool = Field(
        description="Held by no built-in role but the owner; only an owner may put it in a "
        "custom role."
    )
    builtin_roles: list[BuiltinRoleName] = Field(
        description="The built-in roles that hold it (the roles table)."
    )

    @classmethod
    def of(cls, permission: Permission) -> "PermissionRead":
        info = CATALOGUE[permission]
        return cls(
            name=permission.value,
            description=info.description,
            owner_only=info.owner_only,
            builtin_roles=[
                r.value for r, held in BUILTIN_PERMISSIONS.items() if permission in held
            ],
        )


class PermissionList(BaseModel):
    permissions: list[PermissionRead]


class RoleRead(BaseModel):
    slug: str = Field(description="What members, invitations and API keys name it by.")
    name: str
    description: str
    builtin: bool = Field(description="Built-in roles cannot be changed or deleted.")
    permissions: list[str]
    created_at: Timestamp | None = Field(description="Null for built-in roles.")
    modified_at: Timestamp | None = Field(description="Null for built-in roles.")
    replacing_with: str | None = Field(
        default=None,
        description="While a delete moves the role's holders: the role they move to.",
    )

    @classmethod
    def of(cls, view: RoleView) -> "RoleRead":
        custom = view.custom
        return cls(
            slug=view.grant.role,
            name=view.name,
            description=view.description,
            builtin=view.grant.builtin,
            permissions=sorted(p.value for p in view.grant.permissions),
            created_at=custom.created_at if custom else None,
            modified_at=custom.modified_at if custom else None,
            replacing_with=custom.replacing_with if custom else None,
        )


class RoleList(BaseModel):
    roles: list[RoleRead] = Field(
        description="The built-in roles, then the organization's own, oldest first (all of "
        "them: an organization has at most `CUSTOM_ROLES_PER_ORGANIZATION`)."
    )


def _permissions(value: list[Permission] | None) -> list[Permission] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("names a permission twice")
    return value


class RoleCreate(RequestBody):
    slug: Annotated[
        str,
        Field(
            pattern=ROLE_NAME_PATTERN,
            max_length=ROLE_NAME_MAX_LENGTH,
            description="Lower-case letters, digits, `_` and `-`, starting with a letter; "
            "never a built-in role's name. It cannot be changed.",
            examples=["support"],
        ),
    ]
    name: Annotated[str, Field(min_length=1, max_length=100, examples=["Support agent"])]
    description: Annotated[str, Field(max_length=500)] = ""
    permissions: Annotated[
        list[Permission],
        Field(
            max_length=len(Permission),
            description="Catalogue permissions (`GET /api/v1/permissions`); none you lack.",
            examples=[["organization.read", "documents.read"]],
        ),
    ]

    _unique = field_validator("permissions")(_permissions)


class RoleUpdate(RequestBody):
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    description: Annotated[str | None, Field(max_length=500)] = None
    permissions: Annotated[
        list[Permission] | None,
        Field(
            max_length=len(Permission),
            description="The role's whole new set; its holders have it from their next request.",
        ),
    ] = None

    _unique = field_validator("permissions")(_permissions)


class RoleDeleted(BaseModel):
    message: str
    moved: dict[str, int] = Field(
        description="Holders moved to the replacement: members, invitations, api_keys."
    )

"""Request and response bodies of the organization endpoints (the compatibility contract)."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.access.credentials import Email, Password
from app.db.naming import MAX_NAME_LENGTH, InvalidName, validate_name
from app.kit.names import MAX_RAW_NAME_LENGTH
from app.kit.request_body import RequestBody
from app.organizations.service import OrganizationView, RenameOutcome


def _check_name(value: str) -> str:
    try:
        return validate_name(value)
    except InvalidName as exc:
        raise ValueError(f"organization_name {exc}") from None


OrganizationName = Annotated[
    str,
    Field(
        max_length=MAX_RAW_NAME_LENGTH,
        description=(
            f"1 to {MAX_NAME_LENGTH} characters with at least one letter or digit. Compared "
            "case-insensitively with whitespace normalized; names whose identifiers (slugs) "
            "coincide cannot coexist."
        ),
        examples=["Tech Innovations Corp"],
    ),
    AfterValidator(_check_name),
]
NameLookup = Annotated[
    str,
    Field(min_length=1, max_length=MAX_RAW_NAME_LENGTH, examples=["Tech Innovations Corp"]),
]


class OrganizationCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_name": "Tech Innovations Corp",
                    "email": "admin@techcorp.com",
                    "password": "SecurePassword123",
                }
            ]
        }
    )

    organization_name: OrganizationName
    email: Email
    password: Password


class OrganizationUpdate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_name": "Tech Innovations Corp 2.0",
                    "email": "admin@techcorp.com",
                    "password": "SecurePassword123",
                }
            ]
        }
    )

    organization_name: OrganizationName = Field(description="The new name.")
    email: Email = Field(description="The caller's own email, to confirm the change.")
    password: Password = Field(description="The caller's own password, to confirm the change.")


class OrganizationDelete(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"organization_name": "Tech Innovations Corp"}]}
    )

    organization_name: NameLookup


class OrganizationRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6650c0d2f1a4b8e9c3d2a1af",
                    "organization_name": "Tech Innovations Corp",
                    "organization_identifier": "tech-innovations-corp",
                    "tenant_collection": "tenant_tech_innovations_corp",
                    "admin_email": "admin@techcorp.com",
                }
            ]
        }
    )

    id: str = Field(description="The organization's ObjectId, 24 hex digits. Never reused.")
    organization_name: str
    organization_identifier: str
    tenant_collection: str
    admin_email: str

    @classmethod
    def of(cls, view: OrganizationView) -> "OrganizationRead":
        organization = view.organization
        return cls(
            id=str(organization.id),
            organization_name=organization.name,
            organization_identifier=organization.identifier,
            tenant_collection=organization.tenant_collection,
            admin_email=view.admin_email,
        )


class OrganizationRenamed(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "message": "Organization updated successfully",
                    "previous_collection": "tenant_tech_innovations_corp",
                    "current_collection": "tenant_tech_innovations_corp_2_0",
                    "documents_migrated": 42,
                    "organization_identifier": "tech-innovations-corp-2-0",
                    "organization_name": "Tech Innovations Corp 2.0",
                    "id": "6650c0d2f1a4b8e9c3d2a1af",
                }
            ]
        }
    )

    message: str = "Organization updated successfully"
    previous_collection: str
    current_collection: str
    documents_migrated: int = Field(
        description="Documents in the organization's collection after the rename."
    )
    organization_identifier: str
    organization_name: str
    id: str

    @classmethod
    def of(cls, outcome: RenameOutcome) -> "OrganizationRenamed":
        organization = outcome.organization
        return cls(
            previous_collection=outcome.previous_collection,
            current_collection=organization.tenant_collection,
            documents_migrated=outcome.documents_migrated,
            organization_identifier=organization.identifier,
            organization_name=organization.name,
            id=str(organization.id),
        )

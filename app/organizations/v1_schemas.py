"""Bodies of `/api/v1/organizations`: summaries, details with statistics, profile edits."""

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, HttpUrl

from app.access.credentials import Email, Password
from app.db.values import value_problem
from app.kit.names import MAX_RAW_NAME_LENGTH, name_rule
from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.organizations.retention import Deletion
from app.organizations.schemas import OrganizationName
from app.sessions.schemas import TokenResponse

_DOMAIN = re.compile(r"(?=.{4,253}$)((?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z][a-z0-9-]{0,62}")
_METADATA_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_METADATA_KEYS = 50
MAX_METADATA_BYTES = 8192
MAX_METADATA_DEPTH = 3


def _check_domain(value: str) -> str:
    try:
        ascii_domain = value.strip().rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("domain is not a valid host name") from None
    if not _DOMAIN.fullmatch(ascii_domain):
        raise ValueError("domain must be a host name such as example.com")
    return ascii_domain


def _check_https(value: HttpUrl) -> HttpUrl:
    if value.scheme != "https":
        raise ValueError("logo_url must be an https URL")
    return value


def _check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"metadata holds at most {MAX_METADATA_KEYS} keys")
    problem = value_problem(value, ("metadata",), max_depth=MAX_METADATA_DEPTH)
    if problem is not None:
        path = ".".join(str(part) for part in problem.location)
        raise ValueError(f"{path}: {problem.message}")
    _check_keys(value, depth=1)
    if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return value


def _check_keys(value: Any, depth: int) -> None:
    """Keys are plain names (never `$` or `.`: nothing here can become a MongoDB operator)."""
    if depth > MAX_METADATA_DEPTH and isinstance(value, dict | list):
        raise ValueError(f"metadata nests at most {MAX_METADATA_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not _METADATA_KEY.fullmatch(key):
                raise ValueError("metadata keys are 1-64 letters, digits, '_' or '-'")
            _check_keys(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_keys(item, depth + 1)


Domain = Annotated[
    str, Field(max_length=300, examples=["techcorp.com"]), AfterValidator(_check_domain)
]
Metadata = Annotated[dict[str, Any], AfterValidator(_check_metadata)]
MAX_DISPLAY_NAME_LENGTH = 100
DisplayName = Annotated[
    str,
    Field(
        max_length=MAX_RAW_NAME_LENGTH,
        description=f"1 to {MAX_DISPLAY_NAME_LENGTH} characters once whitespace is collapsed; "
        "no control or invisible characters.",
    ),
    name_rule(MAX_DISPLAY_NAME_LENGTH),
]


class Profile(BaseModel):
    display_name: str | None = None
    domain: str | None = None
    description: str | None = None
    logo_url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class ProfileUpdate(RequestBody):
    """Only the fields present change; `null` clears one."""

    display_name: DisplayName | None = None
    domain: Domain | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    logo_url: Annotated[HttpUrl, Field(max_length=2048), AfterValidator(_check_https)] | None = None
    metadata: Metadata | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=self.model_fields_set)


class RenameRequest(RequestBody):
    organization_name: OrganizationName


class OrganizationNew(RequestBody):
    organization_name: OrganizationName


class Statistics(BaseModel):
    members: int
    pending_invitations: int
    tenant_documents: int = Field(
        description="From the collection's metadata (no document is read): exact on a "
        "standalone server or replica set, except just after an unclean shutdown."
    )
    tenant_storage_bytes: int | None = Field(
        description="As the server reports it (`$collStats`); null where it does not (the "
        "in-memory store)."
    )


class OrganizationSummary(BaseModel):
    id: str
    organization_name: str
    organization_identifier: str
    status: Literal["active", "suspended"]
    role: str = Field(description="Your role in it.")


class OrganizationDetail(OrganizationSummary):
    tenant_collection: str
    tenant_database: str = Field(description="The database holding the tenant collection.")
    profile: Profile
    statistics: Statistics
    created_at: Timestamp
    modified_at: Timestamp


class OrganizationCreated(OrganizationSummary):
    tenant_collection: str
    created_at: Timestamp
    token: TokenResponse = Field(
        description="A token acting for the new organization, as its owner. The token you "
        "created it with keeps acting for its own organization; `POST /api/v1/auth/switch` "
        "gives another for the new one at any time."
    )


class Credentials(RequestBody):
    """An owner's own email and password: what confirms a purge, and what restores a deleted
    organization (whose tokens no longer work)."""

    email: Email = Field(description="Your own email.")
    password: Password = Field(description="Your own password.")


class OrganizationDeleted(BaseModel):
    message: str
    state: Literal["deleted", "purged"] = Field(
        description="`deleted`: in the trash, restorable until `purge_after`; "
        "`purged`: gone for good."
    )
    deleted_at: Timestamp
    purge_after: Timestamp | None = Field(
        description="When the retention sweep purges it; null once purged."
    )
    trash_collection: str | None = Field(
        description="Where the tenant collection waits meanwhile (same database)."
    )

    @classmethod
    def of(cls, deletion: Deletion, restorable: str) -> "OrganizationDeleted":
        """The answer to a delete; `restorable` says who may restore it meanwhile."""
        if deletion.trash is None:
            return cls(
                message="Organization and all associated data have been deleted",
                state="purged",
                deleted_at=deletion.organization.modified_at,
                purge_after=None,
                trash_collection=None,
            )
        return cls(
            message=f"Organization deleted; {restorable} until purge_after",
            state="deleted",
            deleted_at=deletion.trash.deleted_at,
            purge_after=deletion.trash.purge_after,
            trash_collection=deletion.trash.collection,
        )


class OrganizationRestored(BaseModel):
    id: str
    organization_name: str
    organization_identifier: str
    tenant_collection: str
    state: Literal["active"] = "active"
    deleted_at: Timestamp
    restored_at: Timestamp

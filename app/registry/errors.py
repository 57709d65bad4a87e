"""What can go wrong with an organization, in the domain's words."""

from app.db.store import TenantNamespace
from app.errors import AppError, Conflict, Forbidden, NotFound


class OrganizationNotFound(NotFound):
    detail = "Organization not found"

    def __init__(self, reference: str | None = None) -> None:
        # Operators get back the name or id they typed.
        super().__init__(
            None if reference is None else f"No organization has the name or id {reference!r}"
        )


class OrganizationNameTaken(Conflict):
    detail = "An organization with this name already exists"


class EmailAlreadyRegistered(Conflict):
    detail = "An account with this email already exists"


class ExistingAccountPasswordMismatch(Conflict):
    detail = (
        "An account with this email already exists; sign up with that account's password "
        "to add an organization to it"
    )


class OperationInProgress(Conflict):
    detail = "Another change to this organization is in progress; try again shortly"

    def __init__(self, name: str | None = None, state: str | None = None) -> None:
        # Operators get the organization and its state, and what to do about it.
        super().__init__(
            None
            if name is None
            else f"Organization {name!r} is in state {state!r}: an operation on it is "
            "unfinished. Wait for it, or settle it with `repair`."
        )


class TenantCollectionOccupied(Conflict):
    detail = (
        "The storage for this name holds data that belongs to no organization; "
        "an operator must resolve it before the name can be used"
    )


class NotYourOrganization(Forbidden):
    detail = "This organization is not the one your token was issued for"


class OrganizationSuspended(AppError):
    status_code = 423
    detail = "The organization is suspended; an owner must reactivate it before it can change"


class TargetOccupied(Conflict):
    def __init__(self, namespace: TenantNamespace) -> None:
        super().__init__(
            f"{namespace} already exists and holds documents that belong to no move; nothing "
            "was changed. Inspect it (verify reports it) before moving there."
        )


class AlreadyInDatabase(Conflict):
    def __init__(self, name: str, database: str) -> None:
        super().__init__(f"{name!r} is already in {database}; nothing to move")

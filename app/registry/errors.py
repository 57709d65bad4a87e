"""What can go wrong with an organization, in the domain's words."""

from app.db.store import TenantNamespace
from app.errors import AppError, Conflict, Forbidden, NotFound, ServiceUnavailable


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    detail = "Organization not found"

    def __init__(self, reference: str | None = None) -> None:
        # Operators get back the name or id they typed.
        super().__init__(
            None if reference is None else f"No organization has the name or id {reference!r}"
        )


class OrganizationNameTaken(Conflict):
    code = "organization_name_taken"
    detail = "An organization with this name already exists"


class EmailAlreadyRegistered(Conflict):
    code = "email_already_registered"
    detail = "An account with this email already exists"


class ExistingAccountPasswordMismatch(Conflict):
    code = "existing_account_password_mismatch"
    detail = (
        "An account with this email already exists; sign up with that account's password "
        "to add an organization to it"
    )


class OperationInProgress(Conflict):
    code = "operation_in_progress"
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
    code = "tenant_collection_occupied"
    detail = (
        "The storage for this name holds data that belongs to no organization; "
        "an operator must resolve it before the name can be used"
    )


class NotYourOrganization(Forbidden):
    code = "not_your_organization"
    detail = "This organization is not the one your token was issued for"


class OrganizationSuspended(AppError):
    code = "organization_suspended"
    status_code = 423
    detail = "The organization is suspended; an owner must reactivate it before it can change"


class OrganizationBusy(ServiceUnavailable):
    code = "organization_busy"
    detail = "The organization is busy; try again shortly"


class TargetOccupied(Conflict):
    code = "move_target_occupied"
    title = "The move's target collection holds documents that belong to no move"

    def __init__(self, namespace: TenantNamespace) -> None:
        super().__init__(
            f"{namespace} already exists and holds documents that belong to no move; nothing "
            "was changed. Inspect it (verify reports it) before moving there."
        )


class AlreadyInDatabase(Conflict):
    code = "already_in_database"
    title = "The organization is already in that database"

    def __init__(self, name: str, database: str) -> None:
        super().__init__(f"{name!r} is already in {database}; nothing to move")

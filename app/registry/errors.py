"""What can go wrong with an organization, in the domain's words."""

from app.errors import AppError, Conflict, Forbidden, NotFound


class OrganizationNotFound(NotFound):
    detail = "Organization not found"


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

"""`GET /errors`: every error code the service answers, what it means, and its status.

Problem details name their entry here in `type` (`/errors/{code}`).
"""

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from app.api.bodies import CheckedBodyRoute
from app.api.openapi import operation_ids
from app.api.responses import errors
from app.errors import CATALOGUE, ErrorCode, NotFound

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/errors",
    tags=["errors"],
    generate_unique_id_function=operation_ids("errors"),
)


class ErrorCodeRead(BaseModel):
    code: str
    status: int
    title: str

    @classmethod
    def of(cls, entry: ErrorCode) -> "ErrorCodeRead":
        return cls(code=entry.code, status=entry.status, title=entry.title)


class ErrorCatalogue(BaseModel):
    errors: list[ErrorCodeRead]


class UnknownErrorCode(NotFound):
    code = "error_code_not_found"
    detail = "No error has this code"


@router.get("", name="list", summary="The error codes")
async def list_codes() -> ErrorCatalogue:
    """Public. Sorted by status, then code."""
    entries = sorted(CATALOGUE.values(), key=lambda entry: (entry.status, entry.code))
    return ErrorCatalogue(errors=[ErrorCodeRead.of(entry) for entry in entries])


@router.get("/{code}", name="read", summary="One error code", responses=errors(UnknownErrorCode))
async def read_code(code: Annotated[str, Path(max_length=64)]) -> ErrorCodeRead:
    """Public."""
    entry = CATALOGUE.get(code)
    if entry is None:
        raise UnknownErrorCode()
    return ErrorCodeRead.of(entry)

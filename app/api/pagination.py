"""Pagination shared by every list endpoint: cursors (keyset), and offsets for compatibility.

A page answers `next_cursor` (null on the last page) and, when there is a next page, a
`Link: <...>; rel="next"` header (RFC 8288) that is the request's own URL with `cursor` set to
it and `offset` removed. How a cursor is made is in `app.db.keyset`.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from app.db.keyset import COUNT_LIMIT, CURSOR_LOCATION, Slice, Window
from app.errors import InvalidInput

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10_000
MAX_CURSOR_LENGTH = 512
Item = TypeVar("Item")

CURSOR_HELP = (
    "Where to continue: the `next_cursor` of the previous page (or follow its `Link` header). "
    "Keep the other query parameters the same; `limit` may change. A cursor is opaque and "
    "never expires; walking with cursors sees every item that exists throughout the walk "
    "exactly once, whatever is added or removed in between."
)
OFFSET_HELP = (
    f"Items to skip (at most {MAX_OFFSET}), for compatibility: prefer `cursor`, which stays "
    "right while items are added or removed. Not with `cursor`."
)
LINK_HEADER: dict[str, object] = {
    "Link": {
        "description": 'The next page, when there is one: `<URL>; rel="next"` (RFC 8288).',
        "schema": {"type": "string"},
    }
}
# Declared on every list endpoint: `responses={..., **PAGED}`.
PAGED: dict[int | str, dict[str, object]] = {200: {"headers": LINK_HEADER}}


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int
    cursor: str | None
    request: Request
    response: Response

    @property
    def window(self) -> Window:
        return Window(self.limit, self.offset, self.cursor)

    def link_next(self, next_cursor: str | None) -> None:
        if next_cursor is None:
            return
        url = self.request.url.remove_query_params("offset").include_query_params(
            cursor=next_cursor
        )
        self.response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'


async def page_request(
    request: Request,
    response: Response,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items to return.")] = 20,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description=CURSOR_HELP)
    ] = None,
) -> PageRequest:
    if cursor is not None and offset:
        raise InvalidInput(CURSOR_LOCATION, "pass either cursor or offset, not both")
    return PageRequest(offset, limit, cursor, request, response)


PageQuery = Annotated[PageRequest, Depends(page_request)]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int = Field(
        description=f"Items in the whole list, counted up to {COUNT_LIMIT:,}; past that, "
        f"{COUNT_LIMIT:,} with `total_capped` true."
    )
    total_capped: bool = Field(
        default=False, description=f"The list holds more than {COUNT_LIMIT:,} items."
    )
    offset: int
    limit: int
    next_cursor: str | None

    @classmethod
    def of(cls, items: list[Item], listed: Slice[Any], request: PageRequest) -> "Page[Item]":
        """The page's body; the `Link` header goes on the response as it is built."""
        request.link_next(listed.next_cursor)
        return cls(
            items=items,
            total=listed.total,
            total_capped=listed.total_capped,
            offset=request.offset,
            limit=request.limit,
            next_cursor=listed.next_cursor,
        )

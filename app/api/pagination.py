"""Offset pagination shared by every list endpoint."""

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_PAGE_SIZE = 100
Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int
    limit: int


def page_request(
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items to return.")] = 20,
) -> PageRequest:
    return PageRequest(offset, limit)


PageQuery = Annotated[PageRequest, Depends(page_request)]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int
    offset: int
    limit: int

    @classmethod
    def of(cls, items: list[Item], total: int, request: PageRequest) -> "Page[Item]":
        return cls(items=items, total=total, offset=request.offset, limit=request.limit)

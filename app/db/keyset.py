"""Keyset pagination: where a list left off, as an opaque cursor, and how to go on from there.

A list is read in one fixed order: a sort field, then `_id` to break ties, both in the same
direction. A cursor is base64url (unpadded) of compact JSON
`{"k": [<sort value>, <_id>], "f": <fingerprint>}`: the last item's position, and a short hash
of the list's name, order and filter, so a cursor is refused by any other list or filter.
Datetimes are epoch milliseconds, the precision BSON stores; ObjectIds are hex.

A page's `total` is counted up to `COUNT_LIMIT` (`count_documents` with a limit, which stops
the index scan there); past it the page says `total_capped` and `total` is the limit. An exact
count of a large list would read every index entry it matches on every page.

Reading after a position (rather than skipping a count) is what keeps a walk stable: an item
inserted or deleted between two pages cannot shift the ones after it, so an item that exists
throughout the walk is seen exactly once. Each list's repository keeps its own query and runs
it through `Reading`, one page at a time; `Reading.select` does the same for a list computed
in Python.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from app.db.store import Document
from app.errors import InvalidInput

T = TypeVar("T")
U = TypeVar("U")

CURSOR_LOCATION = ("query", "cursor")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_MAX_STRING = 1024
# How far a page's `total` counts: as far as an offset can reach, and a page beyond it.
COUNT_LIMIT = 10_000

MALFORMED = "cursor is not one this API issued; pass a next_cursor back unchanged"
MISMATCHED = (
    "cursor was issued for another list, filter or sort; keep the other query parameters "
    "of the request that returned it"
)


class Kind(Enum):
    """How a value of the sort key is written in a cursor."""

    DATETIME = "datetime"
    OBJECT_ID = "object_id"
    STRING = "string"

    def encode(self, value: Any) -> int | str:
        if self is Kind.DATETIME and isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return (moment - _EPOCH) // _MILLISECOND
        if self is Kind.OBJECT_ID and isinstance(value, ObjectId):
            return str(value)
        if self is Kind.STRING and isinstance(value, str):
            return value
        raise TypeError(f"{value!r} is not a {self.value} sort value")

    def decode(self, raw: Any) -> Any:
        """The value a cursor holds, or None if it cannot be one of this kind."""
        if self is Kind.DATETIME:
            if type(raw) is not int:
                return None
            try:
                return _EPOCH + raw * _MILLISECOND
            except OverflowError:
                return None
        if not isinstance(raw, str) or len(raw) > _MAX_STRING:
            return None
        if self is Kind.OBJECT_ID:
            return ObjectId(raw) if len(raw) == 24 and ObjectId.is_valid(raw) else None
        return raw


@dataclass(frozen=True, slots=True)
class Window:
    """Which part of a list to read: after a cursor, or (for compatibility) from an offset."""

    limit: int
    offset: int = 0
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """One page of a list: its items, how many the whole list holds (or `COUNT_LIMIT`, with
    `total_capped`, when it holds more), and where it goes on."""

    items: list[T]
    total: int
    next_cursor: str | None
    total_capped: bool = False

    def with_items(self, items: list[U]) -> "Slice[U]":
        return Slice(items, self.total, self.next_cursor, self.total_capped)


@dataclass(frozen=True, slots=True)
class Total:
    """How many items a list holds, counted no further than `COUNT_LIMIT`."""

    count: int
    capped: bool = False

    @classmethod
    def of(cls, counted: int) -> "Total":
        """From a count made with `limit=COUNT_LIMIT + 1`."""
        return cls(COUNT_LIMIT, True) if counted > COUNT_LIMIT else cls(counted)


async def bounded_count(collection: AsyncCollection[Document], query: Mapping[str, Any]) -> Total:
    return Total.of(await collection.count_documents(dict(query), limit=COUNT_LIMIT + 1))


@dataclass(frozen=True, slots=True)
class Keyset:
    """A list's order: `field` (or `_id` alone), then `_id`, both ascending or descending."""

    name: str
    field: str
    kind: Kind
    id_kind: Kind = Kind.OBJECT_ID
    descending: bool = False
    # Whether items may lack the field (or hold null): MongoDB puts them first, ascending.
    nullable: bool = False

    @property
    def sort(self) -> list[tuple[str, int]]:
        direction = DESCENDING if self.descending else ASCENDING
        if self.field == "_id":
            return [("_id", direction)]
        return [(self.field, direction), ("_id", direction)]

    def read(self, window: Window, **identity: object) -> "Reading":
        """Start reading a page; `identity` is every filter that makes the list what it is."""
        fingerprint = self._fingerprint(identity)
        position = self._decode(window.cursor, fingerprint) if window.cursor else None
        return Reading(self, window, fingerprint, position)

    def position_of(self, document: Mapping[str, Any]) -> tuple[Any, ...]:
        if self.field == "_id":
            return (document["_id"],)
        return (document.get(self.field), document["_id"])

    def _kinds(self) -> tuple[Kind, ...]:
        return (self.id_kind,) if self.field == "_id" else (self.kind, self.id_kind)

    def encoded(self, position: Sequence[Any]) -> tuple[int | str | None, ...]:
        pairs = enumerate(zip(self._kinds(), position, strict=True))
        return tuple(
            None if value is None and self._absent_allowed(index) else kind.encode(value)
            for index, (kind, value) in pairs
        )

    def _absent_allowed(self, index: int) -> bool:
        return self.nullable and index == 0 and self.field != "_id"

    def _fingerprint(self, identity: Mapping[str, object]) -> str:
        described = {
            "list": self.name,
            "sort": self.field,
            "descending": self.descending,
            "filter": identity,
        }
        canonical = json.dumps(described, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(canonical.encode()).digest()[:9]
        return base64.urlsafe_b64encode(digest).decode()

    def cursor_at(self, position: Sequence[Any], fingerprint: str) -> str:
        body = {"k": list(self.encoded(position)), "f": fingerprint}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode(self, cursor: str, fingerprint: str) -> tuple[Any, ...]:
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
            body = json.loads(raw)
        except (binascii.Error, ValueError):
            raise InvalidInput(CURSOR_LOCATION, MALFORMED) from None
        if not isinstance(body, dict) or set(body) != {"k", "f"}:
            raise InvalidInput(CURSOR_LOCATION, MALFORMED)
        if body["f"] != fingerprint:
            raise InvalidInput(CURSOR_LOCATION, MISMATCHED)
        kinds = self._kinds()
        values = body["k"]
        if not isinstance(values, list) or len(values) != len(kinds):
            raise InvalidInput(CURSOR_LOCATION, MALFORMED)
        position = tuple(kind.decode(value) for kind, value in zip(kinds, values, strict=True))
        for index, (value, raw) in enumerate(zip(position, values, strict=True)):
            if value is None and not (raw is None and self._absent_allowed(index)):
                raise InvalidInput(CURSOR_LOCATION, MALFORMED)
        return position


@dataclass(frozen=True, slots=True)
class Reading:
    """One page being read: the query to run, how many to skip and fetch, and the cut."""

    keyset: Keyset
    window: Window
    fingerprint: str
    position: tuple[Any, ...] | None

    @property
    def skip(self) -> int:
        return 0 if self.position is not None else self.window.offset

    @property
    def fetch(self) -> int:
        """One more than the page holds: whether it comes back tells if a next page exists."""
        return self.window.limit + 1

    def query(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """`base` narrowed to the items after the cursor's position, in the keyset's order."""
        if self.position is None:
            return dict(base)
        after = "$lt" if self.keyset.descending else "$gt"
        if self.keyset.field == "_id":
            (last_id,) = self.position
            beyond: dict[str, Any] = {"_id": {after: last_id}}
        else:
            beyond = self._beyond(after)
        return {"$and": [dict(base), beyond]} if base else beyond

    def _beyond(self, after: str) -> dict[str, Any]:
        assert self.position is not None  # noqa: S101 - only called with one
        field, (value, last_id) = self.keyset.field, self.position
        descending = self.keyset.descending
        if value is None:  # items without the field: first ascending, last descending
            rest: list[dict[str, Any]] = [] if descending else [{field: {"$ne": None}}]
            return {"$or": [{field: None, "_id": {after: last_id}}, *rest]}
        if descending and self.keyset.nullable:
            return {
                "$or": [
                    {field: {"$lt": value}},
                    {field: value, "_id": {"$lt": last_id}},
                    {field: None},
                ]
            }
        # The range on the sort field alone bounds the index scan; the `$or` then only sets
        # aside the items that share the last value and come at or before its `_id`.
        from_value = "$lte" if descending else "$gte"
        return {
            field: {from_value: value},
            "$or": [{field: {after: value}}, {"_id": {after: last_id}}],
        }

    def cut(
        self, fetched: list[T], total: int | Total, position: Callable[[T], Sequence[Any]]
    ) -> Slice[T]:
        """The page out of what was fetched (at most `fetch` items, in order)."""
        counted = total if isinstance(total, Total) else Total(total)
        items = fetched[: self.window.limit]
        more = len(fetched) > self.window.limit and bool(items)
        next_cursor = self.keyset.cursor_at(position(items[-1]), self.fingerprint) if more else None
        return Slice(items, counted.count, next_cursor, counted.capped)

    def cut_documents(self, fetched: list[Document], total: int | Total) -> Slice[Document]:
        return self.cut(fetched, total, self.keyset.position_of)

    async def page(
        self, collection: AsyncCollection[Document], base: Mapping[str, Any]
    ) -> Slice[Document]:
        """Count what `base` matches (up to `COUNT_LIMIT`), and read this page of it."""
        total = await bounded_count(collection, base)
        cursor = (
            collection.find(self.query(base))
            .sort(self.keyset.sort)
            .skip(self.skip)
            .limit(self.fetch)
        )
        return self.cut_documents(await cursor.to_list(), total)

    def select(self, whole: list[T], position: Callable[[T], Sequence[Any]]) -> Slice[T]:
        """The same page out of a whole list held in Python, put in the keyset's order."""
        keyed = sorted(
            ((self.keyset.encoded(position(item)), item) for item in whole),
            key=lambda pair: pair[0],
            reverse=self.keyset.descending,
        )
        encoded = [key for key, _ in keyed]
        ordered = [item for _, item in keyed]
        start = self.skip
        if self.position is not None:
            last = self.keyset.encoded(self.position)
            start = next(
                (
                    index
                    for index, key in enumerate(encoded)
                    if (key < last if self.keyset.descending else key > last)
                ),
                len(ordered),
            )
        return self.cut(ordered[start : start + self.fetch], len(ordered), position)

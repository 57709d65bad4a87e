"""Every query the service sends, written down, and whether an index of its collection serves it.

`recording_store` wraps a store like `tests.crash.gated_store` does, but instead of failing
calls it notes each one that reads by a filter: the collection, the filter's fields by kind
(equality or range), the sort. `served_by` then applies the rule a real server's planner
follows when it can avoid a scan (MongoDB's "equality, sort, range" guideline): some index
begins with the equality fields (in any order), then the sort fields (all in the index's
direction or all reversed), then the range fields. A filter on `_id`, or one naming every key
of a unique index by equality, reads at most one document however the rest is written.

An `$or` is served when each branch is (the server then merges one index scan per branch);
an `$or` beside fields that an index already narrows is only a further filter on what that
index finds, and is left out of the shape.
"""

import inspect
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from app.db.store import Client, Document, Store

# Calls whose first argument is a filter; `find` and `find_one` also take a sort.
_FILTERED = {
    "find",
    "find_one",
    "find_one_and_update",
    "find_one_and_replace",
    "find_one_and_delete",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
}
_RANGE_OPERATORS = {
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$ne",
    "$nin",
    "$exists",
    "$type",
    "$regex",
    "$not",
}


@dataclass(frozen=True)
class Shape:
    """One query as a planner sees it: which fields it pins, which it bounds, its order."""

    equality: frozenset[str] = frozenset()
    range: frozenset[str] = frozenset()
    sort: tuple[tuple[str, int], ...] = ()
    branches: tuple["Shape", ...] = ()  # an `$or` that the rest of the filter does not narrow

    def __str__(self) -> str:
        parts = []
        if self.equality:
            parts.append("E[" + ",".join(sorted(self.equality)) + "]")
        if self.sort:
            parts.append("S[" + ",".join(f"{f}:{d}" for f, d in self.sort) + "]")
        if self.range:
            parts.append("R[" + ",".join(sorted(self.range)) + "]")
        if self.branches:
            parts.append("OR(" + " | ".join(str(b) for b in self.branches) + ")")
        return " ".join(parts) or "everything"


@dataclass
class Query:
    """A recorded call; `sort` is filled in when the cursor is sorted after `find`."""

    database: str
    collection: str
    call: str
    filter: Document
    sort: list[tuple[str, int]] = field(default_factory=list)
    note: str = ""
    origin: str = field(default_factory=lambda: _origin())

    residual: frozenset[str] = frozenset()

    @property
    def shape(self) -> Shape:
        return shape_of(self.filter, tuple(self.sort), self.residual)

    @property
    def described(self) -> str:
        """What the allow-list matches: the call and its shape, whatever the values."""
        return f"{self.call} {self.shape}{self.note}"

    def __str__(self) -> str:
        return f"{self.collection}.{self.described}  ({self.origin})"


def _origin() -> str:
    """Who sent the query: the innermost function inside `app/` that is not the keyset
    reader or the retrying wrapper, and its caller (`module.function < module.function`)."""
    found: list[str] = []
    for frame in inspect.stack(context=0)[2:]:
        if f"{os.sep}app{os.sep}" not in frame.filename:
            continue
        module = frame.filename.rsplit(f"{os.sep}app{os.sep}", 1)[1].removesuffix(".py")
        if module in (f"db{os.sep}keyset", f"db{os.sep}retry"):
            continue
        found.append(f"{module.replace(os.sep, '.')}.{frame.function}")
        if len(found) == 2:
            break
    return " < ".join(found) or "tests"


def _is_operator_document(value: object) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(str(k).startswith("$") for k in value)


def _fields(query: Mapping[str, Any]) -> tuple[set[str], set[str], list[Mapping[str, Any]]]:
    """Equality fields, range fields and the `$or` lists of a filter, `$and` flattened."""
    equality: set[str] = set()
    ranged: set[str] = set()
    alternatives: list[Mapping[str, Any]] = []
    for key, value in query.items():
        if key == "$and":
            for part in value:
                e, r, o = _fields(part)
                equality |= e
                ranged |= r
                alternatives += o
        elif key == "$or":
            alternatives.append({"$or": value})
        elif key.startswith("$"):
            ranged.add(key)  # $expr, $where, $text: never served by a plain index
        elif _is_operator_document(value):
            operators = set(value)
            if operators <= {"$eq", "$in"}:
                equality.add(key)
            else:
                ranged.add(key)
        else:
            equality.add(key)
    return equality, ranged - equality, alternatives


def shape_of(
    query: Mapping[str, Any],
    sort: tuple[tuple[str, int], ...] = (),
    residual: frozenset[str] = frozenset(),
) -> Shape:
    """`residual`: fields that only filter what an index finds, left out of the shape."""
    equality, ranged, alternatives = _fields(query)
    equality -= residual
    ranged -= residual
    branches: tuple[Shape, ...] = ()
    if alternatives and not equality and not ranged:
        branches = tuple(shape_of(branch) for branch in alternatives[0]["$or"])
    return Shape(frozenset(equality), frozenset(ranged), sort, branches)


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    # Filters a partial index holds; a query it serves must imply them (checked by name only).
    partial: frozenset[str] = frozenset()

    @classmethod
    def described(cls, name: str, info: Mapping[str, Any]) -> "Index":
        keys = tuple((str(f), int(d)) for f, d in info["key"] if isinstance(d, int | float))
        partial = frozenset(info.get("partialFilterExpression") or {})
        return cls(name, keys, bool(info.get("unique")) or name == "_id_", partial)


ID_INDEX = Index("_id_", (("_id", 1),), unique=True)


def _serves_plain(index: Index, shape: Shape) -> bool:
    if not index.partial <= shape.equality | shape.range:
        return False
    names = [name for name, _ in index.keys]
    equality = len(shape.equality)
    if set(names[:equality]) != shape.equality:
        return False
    position = equality
    if shape.sort:
        wanted = shape.sort
        if wanted[0][0] in shape.equality:  # sorting on a pinned field is no sort at all
            wanted = tuple(pair for pair in wanted if pair[0] not in shape.equality)
        actual = index.keys[position : position + len(wanted)]
        if [f for f, _ in actual] != [f for f, _ in wanted]:
            return False
        same = all(d == w for (_, d), (_, w) in zip(actual, wanted, strict=True))
        reversed_ = all(d == -w for (_, d), (_, w) in zip(actual, wanted, strict=True))
        if not (same or reversed_):
            return False
        position += len(wanted)
    rest = shape.range - {f for f, _ in shape.sort}
    return set(names[position : position + len(rest)]) == rest


def _point_lookup(indexes: Iterable[Index], shape: Shape) -> Index | None:
    for index in indexes:
        keys = {name for name, _ in index.keys}
        if index.unique and not index.partial and keys <= shape.equality:
            return index
    return None


def served_by(indexes: Sequence[Index], shape: Shape) -> Index | None:
    """The index that serves `shape` (the first one of several), or None: a scan."""
    if shape.branches:
        for branch in shape.branches:
            if served_by(indexes, branch) is None:
                return None
        return indexes[0]
    point = _point_lookup([ID_INDEX, *indexes], shape)
    if point is not None:
        return point
    if not shape.equality and not shape.range and not shape.sort:
        return None
    return next((index for index in [ID_INDEX, *indexes] if _serves_plain(index, shape)), None)


class Recorder:
    def __init__(self) -> None:
        self.queries: list[Query] = []

    def note(self, database: str, collection: str, call: str, args: Any, kwargs: Any) -> None:
        if call in _FILTERED:
            query = args[0] if args else kwargs.get("filter", {})
            sort = kwargs.get("sort") or []
            if isinstance(sort, str):
                sort = [(sort, 1)]
            self.queries.append(Query(database, collection, call, dict(query or {}), list(sort)))
        elif call == "distinct":
            query = args[1] if len(args) > 1 else kwargs.get("filter") or {}
            self.queries.append(
                Query(database, collection, call, dict(query), note=f" distinct({args[0]})")
            )
        elif call == "aggregate":
            self._note_pipeline(database, collection, list(args[0] if args else kwargs["pipeline"]))

    def _note_pipeline(self, database: str, collection: str, pipeline: list[Document]) -> None:
        first = pipeline[0] if pipeline else {}
        if "$collStats" in first or "$indexStats" in first:
            return  # reads the collection's metadata, not its documents
        match = first.get("$match", {})
        following = pipeline[1] if "$match" in first and len(pipeline) > 1 else first
        sort = list(following.get("$sort", {}).items())
        stages = ",".join(next(iter(stage)) for stage in pipeline)
        self.queries.append(
            Query(database, collection, "aggregate", dict(match), sort, note=f" [{stages}]")
        )
        for stage in pipeline:
            lookup = stage.get("$lookup")
            if lookup and "foreignField" in lookup:
                self.queries.append(
                    Query(
                        database,
                        lookup["from"],
                        "$lookup",
                        {lookup["foreignField"]: "<each>"},
                        note=f" from {collection}",
                    )
                )


class _RecordedCursor:
    def __init__(self, cursor: Any, query: Query) -> None:
        self._cursor = cursor
        self._query = query

    def sort(self, key: Any, direction: int | None = None) -> "_RecordedCursor":
        pairs = [(key, direction or 1)] if isinstance(key, str) else list(key)
        self._query.sort = pairs
        self._cursor = self._cursor.sort(key, direction) if direction else self._cursor.sort(key)
        return self

    def skip(self, count: int) -> "_RecordedCursor":
        self._cursor = self._cursor.skip(count)
        return self

    def limit(self, count: int) -> "_RecordedCursor":
        self._cursor = self._cursor.limit(count)
        return self

    def __aiter__(self) -> Any:
        return self._cursor.__aiter__()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _RecordedCollection:
    def __init__(self, target: Any, recorder: Recorder, database: str, name: str) -> None:
        self._target = target
        self._recorder = recorder
        self._database = database
        self._name = name

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._recorder.note(self._database, self._name, name, args, kwargs)
            result = attribute(*args, **kwargs)
            if name == "find" and not inspect.isawaitable(result):
                return _RecordedCursor(result, self._recorder.queries[-1])
            return result

        return call


class _RecordedDatabase:
    def __init__(self, target: Any, recorder: Recorder) -> None:
        self._target = target
        self._recorder = recorder

    def __getitem__(self, name: str) -> _RecordedCollection:
        return _RecordedCollection(self._target[name], self._recorder, self._target.name, name)

    def get_collection(self, name: str) -> _RecordedCollection:
        return self[name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class _RecordedClient:
    def __init__(self, client: Client, recorder: Recorder) -> None:
        self._client = client
        self._recorder = recorder

    def get_database(self, name: str) -> AsyncDatabase[Document]:
        database = self._client.get_database(name)
        return cast(AsyncDatabase[Document], _RecordedDatabase(database, self._recorder))

    async def list_database_names(self) -> list[str]:
        return await self._client.list_database_names()

    async def close(self) -> None:
        await self._client.close()


def recording_store(store: Store, recorder: Recorder) -> Store:
    """The same databases; every filtered read and write is noted in `recorder` first."""
    master = cast(AsyncDatabase[Document], _RecordedDatabase(store.master, recorder))
    return replace(store, master=master, client=_RecordedClient(store.client, recorder))

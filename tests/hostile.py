"""Values JSON can carry and MongoDB cannot hold, spelled as raw JSON text, and the sweep that
sends each of them wherever a request takes free JSON, a filter or a typed field.

`json.dumps` would write NaN and cannot write a lone surrogate as it arrives on the wire, so
bodies are raw bytes with `Content-Type: application/json`.
"""

from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient, Response

from tests.support import bearer, created_org, login

# Raw JSON tokens, each valid for Python's parser, none storable as BSON.
HOSTILE_VALUES: dict[str, str] = {
    "2^63": "9223372036854775808",
    "-2^63-1": "-9223372036854775809",
    "10^400": "1" + "0" * 400,
    "1e400": "1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "lone surrogate": '"\\udc00"',
    "surrogate inside text": '"a\\ud800b"',
    "operator instead of a value": '{"$gt": 1}',
    "deep but parseable": "[" * 500 + "]" * 500,
}
HOSTILE_KEYS: dict[str, str] = {
    "lone surrogate key": '"\\udc00"',
    "NUL in key": '"a\\u0000b"',
    "operator key": '"$where"',
}
# Deeper than Python's parser goes: refused as an unreadable body, naming only `body`.
TOO_DEEP = "[" * 10_000 + "]" * 10_000


@dataclass(frozen=True)
class Target:
    """A place a hostile value can go: `@V` in `template` is replaced by it (`@K` by a key)."""

    name: str
    method: str
    path: str  # `{org}`, `{doc}`, `{workspace}` are filled from the arena
    template: str
    loc: tuple[str | int, ...]
    query: str | None = None  # the template is this query parameter, not the body

    def fill(self, raw: str) -> str:
        return self.template.replace("@V", raw).replace("@K", raw)


@dataclass
class Arena:
    client: AsyncClient
    org: str
    doc: str
    workspace: str
    headers: dict[str, str]
    reads: tuple[str, ...]

    @property
    def documents(self) -> str:
        return f"/api/v1/organizations/{self.org}/documents"

    async def send(self, target: Target, raw: str) -> Response:
        path = target.path.format(org=self.org, doc=self.doc, workspace=self.workspace)
        if target.query is not None:
            return await self.client.request(
                target.method, path, params={target.query: target.fill(raw)}, headers=self.headers
            )
        return await self.client.request(
            target.method,
            path,
            content=target.fill(raw).encode(),
            headers={**self.headers, "content-type": "application/json"},
        )

    async def stored(self) -> list[Any]:
        """What a client can read back of everything the targets could have changed."""
        answers = []
        for read in self.reads:
            path = read.format(org=self.org)
            response = await self.client.get(path, headers=self.headers)
            assert response.status_code == 200, (path, response.text)
            answers.append(response.json())
        signed_up = await self.client.get("/org/get", params={"organization_name": "Other"})
        answers.append(signed_up.status_code)
        return answers


ORG = "/api/v1/organizations/{org}"
DOCS = ORG + "/documents"
READS = (DOCS + "?limit=100", ORG, ORG + "/billing", ORG + "/workspaces", ORG + "/invitations")
# nx-27017 never matches ObjectId equality on a non-_id field, which workspaces, billing and
# invitations are read by: over the wire, documents and the profile are read back.
WIRE_READS = (DOCS + "?limit=100", ORG)


async def arena(client: AsyncClient, *, wire: bool = False) -> Arena:
    created = await created_org(client)
    headers = bearer(await login(client))
    org = created["id"]
    document = await client.post(DOCS.format(org=org), json={"title": "kept"}, headers=headers)
    assert document.status_code == 201, document.text
    workspace = ""
    if not wire:
        workspaces = await client.get((ORG + "/workspaces").format(org=org), headers=headers)
        workspace = workspaces.json()["items"][0]["id"]
    reads = WIRE_READS if wire else READS
    return Arena(client, org, document.json()["id"], workspace, headers, reads)


DOCUMENT_TARGETS = [
    Target("create", "POST", DOCS, '{"x": @V}', ("body", "x")),
    Target("create nested", "POST", DOCS, '{"x": {"y": [@V]}}', ("body", "x", "y", 0)),
    Target("create key", "POST", DOCS, '{"x": {@K: 1}}', ("body", "x")),
    Target("batch", "POST", DOCS + "/batch", '{"documents": [{"x": @V}]}', ("body", "documents")),
    Target("replace", "PUT", DOCS + "/{doc}", '{"x": @V}', ("body", "x")),
    Target("patch", "PATCH", DOCS + "/{doc}", '{"x": @V}', ("body", "x")),
    Target("patch key", "PATCH", DOCS + "/{doc}", "{@K: 1}", ("body",)),
    Target("where", "GET", DOCS, '{"x": @V}', ("query", "where", "x"), query="where"),
    Target("where key", "GET", DOCS, "{@K: 1}", ("query", "where"), query="where"),
]
OTHER_TARGETS = [
    Target("metadata", "PATCH", ORG, '{"metadata": {"x": @V}}', ("body", "metadata")),
    Target("metadata key", "PATCH", ORG, '{"metadata": {@K: 1}}', ("body", "metadata")),
    Target("description", "PATCH", ORG, '{"description": @V}', ("body", "description")),
    Target("display name", "PATCH", ORG, '{"display_name": @V}', ("body", "display_name")),
    Target(
        "billing address",
        "PATCH",
        ORG + "/billing",
        '{"billing_address": {"line1": @V, "city": "Berlin", "postal_code": "10117", '
        '"country": "DE"}}',
        ("body", "billing_address", "line1"),
    ),
    Target("workspace", "POST", ORG + "/workspaces", '{"name": @V}', ("body", "name")),
    Target(
        "workspace rename",
        "PATCH",
        ORG + "/workspaces/{workspace}",
        '{"name": @V}',
        ("body", "name"),
    ),
    Target(
        "invitation",
        "POST",
        ORG + "/invitations",
        '{"email": @V, "role": "member"}',
        ("body", "email"),
    ),
    Target(
        "sign-up",
        "POST",
        "/org/create",
        '{"organization_name": "Other", "email": "o@example.com", "password": @V}',
        ("body", "password"),
    ),
    Target(
        "login",
        "POST",
        "/admin/login",
        '{"email": "a@example.com", "password": @V}',
        ("body", "password"),
    ),
    Target(
        "update",
        "PUT",
        "/org/update",
        '{"organization_name": @V, "email": "a@example.com", "password": "SecurePassword123"}',
        ("body", "organization_name"),
    ),
    Target(
        "delete",
        "DELETE",
        "/org/delete",
        '{"organization_name": @V}',
        ("body", "organization_name"),
    ),
]


def named(response: Response, loc: tuple[str | int, ...]) -> bool:
    """Whether a 400 names `loc` (or a place inside it)."""
    items = response.json()["detail"]
    return any(tuple(item["loc"][: len(loc)]) == loc for item in items)


async def sweep(arena: Arena, target: Target) -> None:
    """Send every hostile value and key to `target`: each is a 400 naming the field, and
    nothing a client can read has changed."""
    before = await arena.stored()
    placeholder = "@K" if "@K" in target.template else "@V"
    hostile = HOSTILE_KEYS if placeholder == "@K" else HOSTILE_VALUES
    for label, raw in hostile.items():
        response = await arena.send(target, raw)
        assert response.status_code == 400, (target.name, label, response.text)
        assert named(response, target.loc), (target.name, label, response.text)
    if placeholder == "@V":
        response = await arena.send(target, TOO_DEEP)
        assert response.status_code == 400, (target.name, "too deep", response.text)
        assert named(response, target.loc[:1]), (target.name, "too deep", response.text)
    assert await arena.stored() == before, target.name


# Characters no name may hold, as JSON escapes inside a name.
HOSTILE_NAMES: dict[str, str] = {
    "NUL": '"Sales\\u0000Team"',
    "BEL": '"Sales\\u0007Team"',
    "right-to-left override": '"Sales\\u202eTeam"',
    "zero-width space": '"Sales\\u200bTeam"',
    "lone surrogate": '"Sales\\udc00Team"',
    "private use": '"Sales\\ue000Team"',
    "only whitespace": '" \\n\\t "',
    "too long": '"' + "n" * 201 + '"',
}
_ADDRESS = (
    '{"billing_address": {"line1": @V, "city": "Berlin", "postal_code": "10117", "country": "DE"}}'
)
NAME_TARGETS = [
    Target(
        "organization name",
        "POST",
        "/org/create",
        '{"organization_name": @V, "email": "o@example.com", "password": "SecurePassword123"}',
        ("body", "organization_name"),
    ),
    Target(
        "rename",
        "POST",
        ORG + "/rename",
        '{"organization_name": @V}',
        ("body", "organization_name"),
    ),
    Target("display name", "PATCH", ORG, '{"display_name": @V}', ("body", "display_name")),
    Target("workspace", "POST", ORG + "/workspaces", '{"name": @V}', ("body", "name")),
    Target(
        "workspace rename",
        "PATCH",
        ORG + "/workspaces/{workspace}",
        '{"name": @V}',
        ("body", "name"),
    ),
    Target(
        "address line", "PATCH", ORG + "/billing", _ADDRESS, ("body", "billing_address", "line1")
    ),
    Target(
        "city",
        "PATCH",
        ORG + "/billing",
        '{"billing_address": {"line1": "Main St 1", "city": @V, "postal_code": "10117", '
        '"country": "DE"}}',
        ("body", "billing_address", "city"),
    ),
]


async def refuses_names(arena: Arena, target: Target) -> None:
    """Each character no name may hold is a 400 naming the field; nothing changes."""
    before = await arena.stored()
    for label, raw in HOSTILE_NAMES.items():
        response = await arena.send(target, raw)
        assert response.status_code == 400, (target.name, label, response.text)
        assert named(response, target.loc), (target.name, label, response.text)
    assert await arena.stored() == before, target.name

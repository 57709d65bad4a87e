"""Searching every organization: by name (exact, prefix, substring, always literal), status,
plan, domain and creation time, page by page with cursors."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from tests.support import bearer, created_org, login

SEARCH = "/api/v1/admin/organizations"
TRICKY = ["a.b*c(", "^x$", "A.B Corp", "abc", "xyz", "a+b?", "[ab]"]


async def names(client: AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = await client.get(SEARCH, params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["organization_name"] for item in response.json()["items"]]


@pytest.fixture
async def tricky(client: AsyncClient) -> None:
    for number, name in enumerate(TRICKY):
        await created_org(client, name, f"owner{number}@example.com")


@pytest.mark.usefixtures("tricky")
@pytest.mark.parametrize(
    ("text", "match", "expected"),
    [
        ("a.b*c(", "exact", ["a.b*c("]),
        ("A.B*C(", "exact", ["a.b*c("]),
        ("^x$", "exact", ["^x$"]),
        ("^x", "exact", []),
        ("a.b", "prefix", ["A.B Corp", "a.b*c("]),
        ("^", "prefix", ["^x$"]),
        ("a.", "prefix", ["A.B Corp", "a.b*c("]),
        ("ab", "prefix", ["abc"]),
        (".", "contains", ["A.B Corp", "a.b*c("]),
        ("*c(", "contains", ["a.b*c("]),
        ("x$", "contains", ["^x$"]),
        ("$", "contains", ["^x$"]),
        ("b?", "contains", ["a+b?"]),
        ("[ab]", "contains", ["[ab]"]),
        ("a.c", "contains", []),
        ("B", "contains", ["A.B Corp", "[ab]", "a+b?", "a.b*c(", "abc"]),
    ],
)
async def test_names_match_literally(
    client: AsyncClient, reader: dict[str, str], text: str, match: str, expected: list[str]
) -> None:
    found = await names(client, reader, name=text, match=match)
    assert sorted(found) == sorted(expected)


@pytest.mark.usefixtures("tricky")
async def test_name_searches_come_in_name_order(
    client: AsyncClient, reader: dict[str, str]
) -> None:
    found = await names(client, reader, name="b", match="contains")
    assert found == sorted(found, key=str.casefold)


async def test_filters_by_status_plan_domain_and_creation(
    client: AsyncClient, reader: dict[str, str], writer: dict[str, str]
) -> None:
    first = await created_org(client, "First Corp", "first@example.com")
    second = await created_org(client, "Second Corp", "second@example.com")
    await created_org(client, "Third Corp", "third@example.com")
    await client.post(f"{SEARCH}/{first['id']}/suspend", headers=writer)
    await client.put(f"{SEARCH}/{second['id']}/plan", json={"plan": "pro"}, headers=writer)
    token = bearer(await login(client, "second@example.com"))
    profile = await client.patch(
        f"/api/v1/organizations/{second['id']}", json={"domain": "Second.Example"}, headers=token
    )
    assert profile.status_code == 200, profile.text

    assert await names(client, reader, status="suspended") == ["First Corp"]
    assert sorted(await names(client, reader, status="active")) == ["Second Corp", "Third Corp"]
    assert await names(client, reader, plan="pro") == ["Second Corp"]
    assert sorted(await names(client, reader, plan="free")) == ["First Corp", "Third Corp"]
    assert await names(client, reader, domain="second.example") == ["Second Corp"]
    assert await names(client, reader, domain="SECOND.example.") == ["Second Corp"]
    assert await names(client, reader, domain="second.example", plan="free") == []
    assert await names(client, reader, plan="pro", name="sec", match="prefix") == ["Second Corp"]

    now = datetime.now(UTC)
    later = (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    earlier = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert await names(client, reader, created_after=later) == []
    assert len(await names(client, reader, created_after=earlier, created_before=later)) == 3
    assert await names(client, reader, created_before=earlier, name="corp") == []
    # Newest first when no name orders the list.
    assert await names(client, reader) == ["Third Corp", "Second Corp", "First Corp"]

    listed = (await client.get(SEARCH, params={"plan": "pro"}, headers=reader)).json()
    [item] = listed["items"]
    assert item["domain"] == "second.example"
    assert item["plan"] == "pro"
    assert item["state"] == "active"


async def test_bad_filters_answer_400(client: AsyncClient, reader: dict[str, str]) -> None:
    for params in (
        {"status": "gone"},
        {"plan": "platinum"},
        {"match": "regex"},
        {"domain": "not a domain"},
        {"created_after": "yesterday"},
        {"name": ""},
        {"name": "x" * 201},
        {"cursor": "garbage"},
    ):
        response = await client.get(SEARCH, params=params, headers=reader)
        assert response.status_code == 400, (params, response.text)


@pytest.mark.parametrize(
    "params", [{}, {"name": "corp", "match": "contains"}, {"name": "org ", "match": "prefix"}]
)
async def test_pages_never_skip_or_repeat(
    client: AsyncClient, reader: dict[str, str], writer: dict[str, str], params: dict[str, str]
) -> None:
    for number in range(12):
        await created_org(client, f"Org {number:02d} Corp", f"o{number}@example.com")
    seen: list[str] = []
    cursor = None
    added = False
    while True:
        query: dict[str, str | int] = {**params, "limit": 5}
        if cursor:
            query["cursor"] = cursor
        response = await client.get(SEARCH, params=query, headers=reader)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] >= 12
        seen += [item["id"] for item in body["items"]]
        if not added:
            # Created during the walk: it may or may not show, the others exactly once.
            await created_org(client, "Org 99 Corp", "late@example.com")
            added = True
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert response.headers["link"].endswith('rel="next"')
    assert len(seen) == len(set(seen))
    everyone = await names(client, reader, **params)
    assert len(seen) in (len(everyone), len(everyone) - 1)
    assert len(seen) >= 12


async def test_a_cursor_belongs_to_its_filter(client: AsyncClient, reader: dict[str, str]) -> None:
    for number in range(3):
        await created_org(client, f"Org {number} Corp", f"o{number}@example.com")
    first = (await client.get(SEARCH, params={"limit": 1}, headers=reader)).json()
    other = await client.get(
        SEARCH, params={"limit": 1, "cursor": first["next_cursor"], "plan": "pro"}, headers=reader
    )
    assert other.status_code == 400

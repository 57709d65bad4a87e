"""The documentation pages work on a host that reaches nothing but the service."""

import re

import pytest
from httpx import AsyncClient

# Every address a page asks the browser to fetch: attributes, and the URLs its start-up script
# passes to Swagger UI or ReDoc.
_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*['"]([^'"]+)['"]""")
_INIT_ARGUMENTS = re.compile(r"""spec-url\s*=\s*["']([^"']+)["']""")


def references(page: str) -> list[str]:
    found = [a or b for a, b in _REFERENCES.findall(page)]
    return found + _INIT_ARGUMENTS.findall(page)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_a_docs_page_references_nothing_outside_the_service(
    client: AsyncClient, path: str
) -> None:
    page = await client.get(path)

    assert page.status_code == 200
    found = references(page.text)
    assert found, "the page references no script at all"
    assert [url for url in found if not url.startswith("/")] == []
    assert not re.search(r"https?://", page.text), "the page names another origin"
    for url in found:
        fetched = await client.get(url)
        assert fetched.status_code == 200, url
        assert fetched.content, url


async def test_the_docs_assets_are_scripts_styles_and_an_icon(client: AsyncClient) -> None:
    kinds = {
        "/docs/assets/swagger-ui-bundle.js": "javascript",
        "/docs/assets/swagger-ui.css": "text/css",
        "/docs/assets/redoc.standalone.js": "javascript",
        "/docs/assets/favicon.png": "image/png",
    }
    for url, kind in kinds.items():
        response = await client.get(url)
        assert response.status_code == 200, url
        assert kind in response.headers["content-type"], url


async def test_the_assets_are_not_part_of_the_api_document(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert not [path for path in document["paths"] if path.startswith(("/docs", "/redoc"))]

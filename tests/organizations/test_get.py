import pytest
from httpx import AsyncClient

from tests.support import NAME, created_org


async def test_get_answers_the_same_shape_as_create(client: AsyncClient) -> None:
    created = await created_org(client)

    response = await client.get("/org/get", params={"organization_name": NAME})

    assert response.status_code == 200
    assert response.json() == created


@pytest.mark.parametrize("spelling", ["tech innovations corp", "  TECH\tInnovations   Corp  "])
async def test_lookup_ignores_case_and_repeated_whitespace(
    client: AsyncClient, spelling: str
) -> None:
    created = await created_org(client)

    response = await client.get("/org/get", params={"organization_name": spelling})

    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


@pytest.mark.parametrize("spelling", ["Tech-Innovations-Corp", "Tech Innovations", ".*", "Tech.*"])
async def test_lookup_is_exact_never_a_pattern(client: AsyncClient, spelling: str) -> None:
    await created_org(client)

    response = await client.get("/org/get", params={"organization_name": spelling})

    assert response.status_code == 404
    assert response.json() == {"detail": "Organization not found"}


async def test_an_unknown_name_is_404(client: AsyncClient) -> None:
    response = await client.get("/org/get", params={"organization_name": "Nobody"})

    assert response.status_code == 404


async def test_a_missing_parameter_is_400_naming_it(client: AsyncClient) -> None:
    response = await client.get("/org/get")

    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "organization_name"]


async def test_an_empty_parameter_is_400(client: AsyncClient) -> None:
    response = await client.get("/org/get", params={"organization_name": ""})

    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "organization_name"]

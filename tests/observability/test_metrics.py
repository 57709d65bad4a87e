import re

from httpx import AsyncClient

from tests.support import EMAIL, NAME, created_org, login, rename


def sample(exposition: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in exposition.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def scrape(client: AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_and_status(client: AsyncClient) -> None:
    await created_org(client)
    for _ in range(3):
        await client.get("/org/get", params={"organization_name": NAME})
    await client.get("/org/get", params={"organization_name": "Nobody"})
    await client.get("/wp-admin/secret-probe")

    text = await scrape(client)

    series = "tenantry_http_requests_total"
    assert sample(text, series, method="GET", route="/org/get", status="200") == 3
    assert sample(text, series, method="GET", route="/org/get", status="404") == 1
    assert sample(text, series, method="POST", route="/org/create", status="201") == 1
    assert sample(text, series, method="GET", route="unmatched", status="404") == 1
    assert "wp-admin" not in text
    count = "tenantry_http_request_duration_seconds_count"
    assert sample(text, count, method="GET", route="/org/get") == 4


async def test_login_failures_and_renames_are_measured(client: AsyncClient) -> None:
    await created_org(client)
    await client.post("/admin/login", json={"email": EMAIL, "password": "WrongPassword"})
    await rename(client, await login(client), "Measured Corp")

    text = await scrape(client)

    assert sample(text, "tenantry_login_failures_total", reason="invalid_credentials") == 1
    assert sample(text, "tenantry_rename_duration_seconds_count") == 1


async def test_organizations_are_counted_by_state(client: AsyncClient) -> None:
    await created_org(client)
    await created_org(client, name="Second", email="second@example.com")

    text = await scrape(client)

    assert sample(text, "tenantry_organizations", state="active") == 2
    assert sample(text, "tenantry_organizations", state="deleting") == 0

import re
from datetime import timedelta

from httpx import AsyncClient
from pymongo import monitoring

from app.observability.metrics import Metrics
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
    assert sample(text, "tenantry_rename_duration_seconds_count", how="renamed") == 1


async def test_organizations_are_counted_by_state(client: AsyncClient) -> None:
    await created_org(client)
    await created_org(client, name="Second", email="second@example.com")

    text = await scrape(client)

    assert sample(text, "tenantry_organizations", state="active") == 2
    assert sample(text, "tenantry_organizations", state="deleting") == 0


async def test_the_process_and_the_platform_are_measured(client: AsyncClient) -> None:
    text = await scrape(client)

    for series in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "python_gc_collections_total",
    ):
        assert re.search(rf"^{series}(\{{.*\}})? ", text, re.MULTILINE), series
    assert 'python_info{implementation="CPython"' in text


async def test_requests_in_flight_are_counted(client: AsyncClient) -> None:
    text = await scrape(client)

    # The scrape itself is being answered.
    assert sample(text, "tenantry_http_requests_in_flight") == 1


async def test_no_series_is_a_created_timestamp(client: AsyncClient) -> None:
    await created_org(client)

    text = await scrape(client)

    assert "_created" not in text


def test_a_failed_command_is_counted_and_timed_by_name() -> None:
    metrics = Metrics()
    [commands] = [
        listener
        for listener in metrics.driver_listeners()
        if isinstance(listener, monitoring.CommandListener)
    ]

    commands.failed(
        monitoring.CommandFailedEvent(
            timedelta(milliseconds=3), {"ok": 0, "code": 11600}, "aggregate", 1, ("db", 27017), 1
        )
    )

    text = metrics.exposition().decode()
    assert sample(text, "tenantry_mongodb_command_failures_total", command="aggregate") == 1
    assert sample(text, "tenantry_mongodb_command_duration_seconds_sum", command="aggregate") == (
        0.003
    )

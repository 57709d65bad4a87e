"""The SSRF guard: what a webhook may be sent to, judged on the addresses connected to."""

import ipaddress

import pytest
from httpx import AsyncClient

from app.config import Settings
from app.webhooks.targets import TargetPolicy, TargetRefused, _check_address, resolve
from tests.support import bearer, created_org, login


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As in production: https only, public addresses only."""
    return settings.model_copy(
        update={"environment": "production", "webhook_allow_private_targets": False}
    )


STRICT = TargetPolicy(allow_private=False, allow_http=False)
OPEN = TargetPolicy(allow_private=True, allow_http=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "224.0.0.1",
        "::1",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    with pytest.raises(TargetRefused):
        _check_address(ipaddress.ip_address(address), STRICT)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    _check_address(ipaddress.ip_address(address), STRICT)


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(TargetRefused, match=r"127\.0\.0\.1 is not a public address"):
        await resolve("https://localhost:8443/hook", STRICT)


async def test_the_connection_goes_to_the_address_checked_with_the_name_as_host() -> None:
    target = await resolve("http://localhost:8080/hook?x=1", OPEN)
    assert target.address in ("127.0.0.1", "::1")
    assert target.url.endswith(":8080/hook?x=1")
    assert "localhost" not in target.url
    assert target.host_header == "localhost:8080"
    assert target.host == "localhost"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # http outside development
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
        "https:///nohost",
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5/hook",
    ],
)
async def test_registering_a_url_that_can_never_be_called_is_a_400(
    client: AsyncClient, url: str
) -> None:
    org = await created_org(client)
    token = await login(client)
    response = await client.post(
        f"/api/v1/organizations/{org['id']}/webhooks", json={"url": url}, headers=bearer(token)
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"][0]["loc"][-1] == "url"

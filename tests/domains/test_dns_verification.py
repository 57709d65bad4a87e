"""Verification against a real DNS server on loopback: the record found, a wrong token, a
missing record, a failing server, and a record removed after verification."""

from datetime import timedelta

from httpx import AsyncClient

from app.domains.dns_check import Nameserver, Outcome, TxtChecker, parse_nameserver
from app.domains.service import DomainService
from tests.domains.conftest import (
    Org,
    added,
    organization,
    publish,
    verified_domain,
    verify,
)
from tests.domains.dns_server import Zone


def checker(port: int) -> TxtChecker:
    return TxtChecker([Nameserver("127.0.0.1", port)], timeout=2)


async def test_the_checker_finds_the_published_token(dns: tuple[Zone, int]) -> None:
    zone, port = dns
    zone.publish("_tenantry-challenge.techcorp.com", "v=spf1 -all", "tenantry-verification=abc")

    found = await checker(port).check("techcorp.com", "abc")

    assert found.outcome is Outcome.FOUND
    assert zone.questions == ["_tenantry-challenge.techcorp.com"]


async def test_the_checker_tells_a_wrong_token_a_missing_name_and_a_name_without_txt(
    dns: tuple[Zone, int],
) -> None:
    zone, port = dns
    zone.publish("_tenantry-challenge.wrong.example", "tenantry-verification=other")
    zone.publish("_tenantry-challenge.empty.example")

    wrong = await checker(port).check("wrong.example", "abc")
    missing = await checker(port).check("missing.example", "abc")
    empty = await checker(port).check("empty.example", "abc")

    assert (wrong.outcome, missing.outcome, empty.outcome) == (Outcome.ABSENT,) * 3
    assert wrong.reason is not None
    assert "tenantry-verification=abc" in wrong.reason
    assert missing.reason is not None
    assert "does not exist" in missing.reason
    assert empty.reason is not None
    assert "no TXT record" in empty.reason


async def test_a_failing_server_is_inconclusive(dns: tuple[Zone, int]) -> None:
    zone, port = dns
    zone.publish("_tenantry-challenge.techcorp.com", "tenantry-verification=abc")
    zone.failing.add("_tenantry-challenge.techcorp.com")

    failed = await checker(port).check("techcorp.com", "abc")

    assert failed.outcome is Outcome.INCONCLUSIVE


def test_nameservers_are_addresses_with_optional_ports() -> None:
    assert parse_nameserver("127.0.0.1:5353") == Nameserver("127.0.0.1", 5353)
    assert parse_nameserver("192.0.2.53") == Nameserver("192.0.2.53", 53)
    assert parse_nameserver("[::1]:5300") == Nameserver("::1", 5300)
    assert parse_nameserver("2001:db8::53") == Nameserver("2001:db8::53", 53)


async def test_a_published_record_verifies_the_domain(client: AsyncClient, zone: Zone) -> None:
    org = await organization(client)
    domain = await added(client, org)
    assert domain["status"] == "pending"
    assert domain["record"] == {
        "type": "TXT",
        "name": "_tenantry-challenge.techcorp.com",
        "value": domain["record"]["value"],
    }
    assert domain["record"]["value"].startswith("tenantry-verification=")
    publish(zone, domain)

    verified = await verify(client, org, domain["id"])

    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"
    assert verified.json()["verified_at"] is not None
    listed = await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)
    assert listed.json()["status"] == "verified"


async def test_a_wrong_token_does_not_verify(client: AsyncClient, zone: Zone) -> None:
    org = await organization(client)
    domain = await added(client, org)
    zone.publish("_tenantry-challenge.techcorp.com", "tenantry-verification=not-the-token")

    refused = await verify(client, org, domain["id"])

    assert refused.status_code == 409
    assert refused.json()["code"] == "domain_not_verified"
    assert "no TXT record" in refused.json()["detail"]
    shown = (await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)).json()
    assert shown["status"] == "pending"
    assert shown["last_check_error"] is not None
    assert shown["last_checked_at"] is not None


async def test_a_missing_record_does_not_verify(client: AsyncClient, zone: Zone) -> None:
    org = await organization(client)
    domain = await added(client, org)

    refused = await verify(client, org, domain["id"])

    assert refused.status_code == 409
    assert "does not exist" in refused.json()["detail"]


async def test_a_failing_dns_server_is_a_clear_refusal(client: AsyncClient, zone: Zone) -> None:
    org = await organization(client)
    domain = await added(client, org)
    publish(zone, domain)
    zone.failing.add("_tenantry-challenge.techcorp.com")

    refused = await verify(client, org, domain["id"])

    assert refused.status_code == 409
    assert refused.json()["code"] == "domain_not_verified"
    assert "no DNS server could answer" in refused.json()["detail"]


async def test_a_record_removed_later_makes_the_domain_lapse_at_the_next_check(
    client: AsyncClient, checks: DomainService, zone: Zone
) -> None:
    org = await organization(client)
    domain = await verified_domain(client, zone, org, join_policy="auto")
    zone.remove("_tenantry-challenge.techcorp.com")

    lapsed = await checks.check_due(timedelta(0))

    assert lapsed == 1
    shown = (await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)).json()
    assert shown["status"] == "lapsed"
    assert shown["lapsed_at"] is not None
    assert "does not exist" in shown["last_check_error"]
    assert await event_types(client, org) >= {"domain.verification_lapsed"}
    assert "domain.verification_lapse" in await audit_actions(client, org)


async def test_a_record_still_there_keeps_the_domain_verified(
    client: AsyncClient, checks: DomainService, zone: Zone
) -> None:
    org = await organization(client)
    domain = await verified_domain(client, zone, org)

    assert await checks.check_due(timedelta(0)) == 0

    shown = (await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)).json()
    assert shown["status"] == "verified"
    assert shown["last_check_error"] is None


async def test_a_dns_failure_at_a_scheduled_check_keeps_the_domain_verified(
    client: AsyncClient, checks: DomainService, zone: Zone
) -> None:
    org = await organization(client)
    domain = await verified_domain(client, zone, org)
    zone.failing.add("_tenantry-challenge.techcorp.com")

    assert await checks.check_due(timedelta(0)) == 0

    shown = (await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)).json()
    assert shown["status"] == "verified"
    assert "no DNS server could answer" in shown["last_check_error"]


async def test_only_domains_due_are_checked(
    client: AsyncClient, checks: DomainService, zone: Zone
) -> None:
    org = await organization(client)
    domain = await verified_domain(client, zone, org)
    zone.remove("_tenantry-challenge.techcorp.com")

    assert await checks.check_due(timedelta(hours=1)) == 0
    shown = (await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)).json()
    assert shown["status"] == "verified"


async def test_verifying_again_after_the_record_went_lapses_the_domain(
    client: AsyncClient, zone: Zone
) -> None:
    org = await organization(client)
    domain = await verified_domain(client, zone, org)
    zone.remove("_tenantry-challenge.techcorp.com")

    refused = await verify(client, org, domain["id"])

    assert refused.status_code == 409
    shown = (await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)).json()
    assert shown["status"] == "lapsed"
    publish(zone, domain)
    assert (await verify(client, org, domain["id"])).json()["status"] == "verified"


async def event_types(client: AsyncClient, org: Org) -> set[str]:
    events = await client.get(f"/api/v1/organizations/{org.id}/events", headers=org.owner)
    assert events.status_code == 200, events.text
    return {event["type"] for event in events.json()["events"]}


async def audit_actions(client: AsyncClient, org: Org) -> set[str]:
    audit = await client.get(f"/api/v1/organizations/{org.id}/audit-log", headers=org.owner)
    assert audit.status_code == 200, audit.text
    return {entry["action"] for entry in audit.json()["items"]}

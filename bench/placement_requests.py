"""The placement bench's requests: creates, look-ups and renames, timed one at a time.

A rename is also checked against the registry and the store: the tenant collection must move
inside the database the registry records for the organization.
"""

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.api import PASSWORD, email_for, org_name_for
from bench.in_process import Document, Service
from bench.progress import speaker

NAME_TAG = "P"

say = speaker("placement")


@dataclass
class Population:
    """The organizations created so far, by sequence number, under their current names."""

    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    # Sequence numbers used, failed creates included: a name is never tried twice.
    attempts: int = 0
    renames_checked: int = 0
    renames_failed: int = 0


async def create_batch(
    service: Service, population: Population, count: int, errors: Counter[str]
) -> list[float]:
    timings: list[float] = []
    for _ in range(count):
        number = population.attempts
        population.attempts += 1
        name, email = org_name_for(NAME_TAG, number), email_for(NAME_TAG, number)
        begin = time.perf_counter()
        response = await service.client.post(
            "/org/create", json={"organization_name": name, "email": email, "password": PASSWORD}
        )
        elapsed = time.perf_counter() - begin
        if response.status_code != 201:
            errors["create"] += 1
            say(f"create {name!r} answered {response.status_code}: {response.text[:200]}")
            continue
        timings.append(elapsed)
        population.names.append(name)
        population.emails.append(email)
    return timings


async def lookup_batch(
    service: Service, population: Population, rng: random.Random, count: int, errors: Counter[str]
) -> list[float]:
    timings: list[float] = []
    for _ in range(count if population.names else 0):
        name = rng.choice(population.names)
        begin = time.perf_counter()
        response = await service.client.get("/org/get", params={"organization_name": name})
        timings.append(time.perf_counter() - begin)
        if response.status_code != 200:
            errors["lookup"] += 1
    return timings


async def rename_batch(
    service: Service,
    population: Population,
    rng: random.Random,
    count: int,
    round_number: int,
    errors: Counter[str],
) -> tuple[list[float], list[float]]:
    """Renames of distinct random organizations: login and rename latencies."""
    logins: list[float] = []
    renames: list[float] = []
    numbers = rng.sample(range(len(population.names)), min(count, len(population.names)))
    for number in numbers:
        old_name = population.names[number]
        new_name = f"{org_name_for(NAME_TAG, number)} Renamed {round_number}"
        before = await service.registry.find_one({"name": old_name})
        begin = time.perf_counter()
        login = await service.client.post(
            "/admin/login", json={"email": population.emails[number], "password": PASSWORD}
        )
        logins.append(time.perf_counter() - begin)
        population.renames_checked += 1
        if login.status_code != 200 or before is None:
            errors["rename"] += 1
            population.renames_failed += 1
            continue
        begin = time.perf_counter()
        response = await service.client.put(
            "/org/update",
            json={
                "organization_name": new_name,
                "email": population.emails[number],
                "password": PASSWORD,
            },
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        renames.append(time.perf_counter() - begin)
        if response.status_code != 200:
            errors["rename"] += 1
            population.renames_failed += 1
            say(f"rename of {old_name!r} answered {response.status_code}: {response.text[:200]}")
            continue
        population.names[number] = new_name
        if not await _moved_in_place(service, before, response.json()):
            errors["rename_check"] += 1
            population.renames_failed += 1
    return logins, renames


async def _moved_in_place(service: Service, before: Document, answer: Document) -> bool:
    """The registry still records the same database, and the collection moved inside it."""
    store = service.store
    after = await service.registry.find_one({"_id": before["_id"]})
    if after is None:
        return False
    database = store.resolve_database(str(before.get("tenant_database", "")))
    present = set(await store.tenant_database(database).list_collection_names())
    current, previous = answer.get("current_collection"), answer.get("previous_collection")
    ok = (
        store.resolve_database(str(after.get("tenant_database", ""))) == database
        and after.get("tenant_collection") == current
        and previous == before.get("tenant_collection")
        and current in present
        and previous not in present
    )
    if not ok:
        say(
            f"rename of {before.get('name')!r}: registry {before.get('tenant_database')}."
            f"{before.get('tenant_collection')} -> {after.get('tenant_database')}."
            f"{after.get('tenant_collection')}; {current!r} listed: {current in present}, "
            f"{previous!r} still listed: {previous in present}"
        )
    return ok

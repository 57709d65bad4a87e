"""The login throttle's reservations through PyMongo's `AsyncMongoClient`, as production runs
them: conditional upserts racing on one `_id`, `$push` with `$sort` and `$slice`, `$pull`."""

import asyncio
from collections import Counter

import pytest
from httpx import AsyncClient

from app.db.schema import THROTTLE_ATTEMPTS
from app.db.store import Store
from tests.support import EMAIL, PASSWORD, created_org
from tests.wire.conftest import Server

pytestmark = pytest.mark.wire


@pytest.fixture(autouse=True)
def real_server(server: Server) -> None:
    if server.kind == "nx-27017":
        pytest.skip(
            "nx-27017 stores documents pushed with $each as strings and matches "
            "`array.<n>: {$exists: false}` on arrays longer than n"
        )


async def test_guesses_at_once_get_the_limit_of_checks(
    wire_client: AsyncClient, wire_store: Store
) -> None:
    await created_org(wire_client)

    responses = await asyncio.gather(
        *(
            wire_client.post(
                "/admin/login", json={"email": f"{i % 2}{EMAIL}", "password": "Wrong-Guess-1"}
            )
            for i in range(24)
        )
    )

    # Two unknown accounts of five each; the address allows twenty, so the accounts bind.
    assert Counter(r.status_code for r in responses) == {401: 10, 429: 14}
    keys = await wire_store.master[THROTTLE_ATTEMPTS].find({}).to_list()
    assert sorted(len(key["attempts"]) for key in keys) == [5, 5, 10]
    assert not any(a["pending"] for key in keys for a in key["attempts"])


async def test_a_right_password_gives_its_attempt_back(
    wire_client: AsyncClient, wire_store: Store
) -> None:
    await created_org(wire_client)

    response = await wire_client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 200
    keys = await wire_store.master[THROTTLE_ATTEMPTS].find({}).to_list()
    assert [key["attempts"] for key in keys] == [[], []]

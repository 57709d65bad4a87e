"""Custom roles through the real driver: the token's and the key's checks join the role's
definition (`$concat` of the organization and the slug, `$toString` for a key) as a real
driver encodes the aggregation, and a change reaches both on their next request.

The role is stored directly: creating one through the API takes the organization's short
lease, a pipeline update nx-27017 does not run.
"""

from datetime import UTC, datetime

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.access.permissions import Permission
from app.db.store import Store
from app.roles.models import CustomRole
from app.roles.repository import RoleRepository
from tests.support import add_account, bearer, created_org, login
from tests.wire.conftest import Server

pytestmark = pytest.mark.wire


async def test_a_custom_role_is_resolved_with_each_check(
    server: Server, wire_client: AsyncClient, wire_store: Store
) -> None:
    if server.kind == "nx-27017":
        pytest.skip(
            "nx-27017 answers a $lookup on a computed localField (the `$concat` key) with the "
            "joined array as a JSON string, where MongoDB answers an array"
        )
    org = (await created_org(wire_client))["id"]
    owner = bearer(await login(wire_client))
    base = f"/api/v1/organizations/{org}"
    now = datetime.now(UTC).replace(microsecond=0)
    reads = frozenset({Permission.READ_ORGANIZATION})
    role = CustomRole(ObjectId(org), "reader", "Reader", "", reads, now, now)
    await RoleRepository(wire_store).insert(role)
    await add_account(wire_store, org, "reader@techcorp.com", "reader")
    token = bearer(await login(wire_client, "reader@techcorp.com"))
    key = await wire_client.post(
        f"{base}/api-keys", json={"name": "ci", "role": "reader"}, headers=owner
    )
    assert key.status_code == 201, key.text
    keyed = bearer(key.json()["secret"])

    before = [await wire_client.get(f"{base}/audit-log", headers=who) for who in (token, keyed)]
    widened = await wire_client.patch(
        f"{base}/roles/reader",
        json={"permissions": ["organization.read", "audit.read"]},
        headers=owner,
    )
    after = [await wire_client.get(f"{base}/audit-log", headers=who) for who in (token, keyed)]

    assert [r.status_code for r in before] == [403, 403], [r.text for r in before]
    assert widened.status_code == 200, widened.text
    assert [r.status_code for r in after] == [200, 200], [r.text for r in after]

"""How `try_rename` answers each kind of renameCollection failure: passing ones are tried
again, a rename that did happen is recognized, only a refusal leads to the copy, and anything
else fails the rename with the source untouched."""

import pytest
from pymongo.errors import AutoReconnect, OperationFailure

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Store, TenantNamespace
from app.registry import tenants as tenants_module
from app.registry.tenants import RenameResult, TenantCollections
from tests.conftest import running
from tests.crash import gated_store
from tests.support import created_org, login, rename

SOURCE = TenantNamespace("tenantry_tenants", "tenant_old")
TARGET = TenantNamespace("tenantry_tenants", "tenant_new")


class FailingRenames:
    """Fails the first `times` renameCollection calls with `error`: before the server runs
    them or, with `after`, once it has (a lost answer)."""

    def __init__(self, error: Exception, times: int = 1, *, after: bool = False) -> None:
        self.error, self.times, self.lost_answer = error, times, after
        self.calls = 0

    def before(self, call: str) -> None:
        if call.endswith(".rename"):
            self.calls += 1
            if not self.lost_answer:
                self._fail()

    def after(self, call: str) -> None:
        if call.endswith(".rename") and self.lost_answer:
            self._fail()

    def _fail(self) -> None:
        if self.times:
            self.times -= 1
            raise self.error


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tenants_module, "RENAME_PAUSES_SECONDS", (0.0, 0.0, 0.0))


async def seeded(store: Store) -> None:
    await store.collection(SOURCE).insert_many([{"n": n} for n in range(3)])


async def names(store: Store) -> list[str]:
    return sorted(await store.tenant_database(SOURCE.database).list_collection_names())


def gated(store: Store, gate: FailingRenames) -> TenantCollections:
    return TenantCollections(gated_store(store, gate))


@pytest.mark.parametrize(
    "code",
    [189, 91, 10107, 13435, 13436, 11600, 11602, 12586, 12587, 117, 24, 46, 112, 262],
)
async def test_a_passing_failure_is_tried_again(store: Store, code: int) -> None:
    await seeded(store)
    gate = FailingRenames(OperationFailure("not now", code))

    assert await gated(store, gate).try_rename(SOURCE, TARGET) is RenameResult.MOVED
    assert gate.calls == 2
    assert await names(store) == [TARGET.collection]


async def test_an_error_labelled_retryable_is_tried_again(store: Store) -> None:
    await seeded(store)
    labelled = OperationFailure("x", 9999, {"code": 9999, "errorLabels": ["RetryableWriteError"]})
    gate = FailingRenames(labelled)

    assert await gated(store, gate).try_rename(SOURCE, TARGET) is RenameResult.MOVED
    assert gate.calls == 2


async def test_a_lost_answer_of_a_rename_that_happened_counts_as_moved(store: Store) -> None:
    await seeded(store)
    gate = FailingRenames(AutoReconnect("connection closed"), after=True)

    assert await gated(store, gate).try_rename(SOURCE, TARGET) is RenameResult.MOVED
    assert gate.calls == 1
    assert await store.collection(TARGET).count_documents({}) == 3


async def test_namespace_not_found_after_the_move_counts_as_moved(store: Store) -> None:
    # Recovery (or an earlier attempt) moved it: the source is gone and the target is there.
    await seeded(store)
    gate = FailingRenames(OperationFailure("ns not found", 26), after=True)

    assert await gated(store, gate).try_rename(SOURCE, TARGET) is RenameResult.MOVED
    assert gate.calls == 1


async def test_namespace_not_found_with_nothing_anywhere_fails(store: Store) -> None:
    gate = FailingRenames(OperationFailure("ns not found", 26))

    with pytest.raises(OperationFailure):
        await gated(store, gate).try_rename(SOURCE, TARGET)
    assert gate.calls == 1


@pytest.mark.parametrize("code", [13, 20, 59, 115])
async def test_a_refusal_leads_to_the_copy(store: Store, code: int) -> None:
    await seeded(store)
    gate = FailingRenames(OperationFailure("refused", code), times=99)

    assert await gated(store, gate).try_rename(SOURCE, TARGET) is RenameResult.REFUSED
    assert gate.calls == 1
    assert await store.collection(SOURCE).count_documents({}) == 3


@pytest.mark.parametrize("error", [OperationFailure("bad", 2), OperationFailure("x", 189)])
async def test_other_failures_fail_the_rename_and_leave_the_source(
    store: Store, error: OperationFailure
) -> None:
    await seeded(store)
    gate = FailingRenames(error, times=99)

    with pytest.raises(OperationFailure):
        await gated(store, gate).try_rename(SOURCE, TARGET)
    assert gate.calls == (1 if error.code == 2 else 4)  # a passing one, until the pauses run out
    assert await names(store) == [SOURCE.collection]


async def test_a_rename_across_an_election_moves_the_collection_without_copying(
    settings: Settings, store: Store
) -> None:
    async with running(settings, store) as client:
        await created_org(client)
    database = store.tenant_database("")
    await database["tenant_tech_innovations_corp"].insert_many([{"n": n} for n in range(4)])
    gate = FailingRenames(OperationFailure("primary stepped down", 189))

    async with running(settings, gated_store(store, gate)) as client:
        response = await rename(client, await login(client), "Elsewhere")

    assert response.status_code == 200
    assert response.json()["documents_migrated"] == 4
    assert gate.calls == 2
    organization = await store.master[ORGANIZATIONS].find_one({})
    assert organization is not None
    assert organization["tenant_collection"] == "tenant_elsewhere"
    assert await database.list_collection_names() == ["tenant_elsewhere"]

"""`orgs list`, `orgs show` and `stats` against organizations created through the API."""

from typing import Any

from bson import ObjectId

from app.access.roles import Role
from app.db.schema import ORGANIZATIONS
from tests.cli.conftest import Operator
from tests.support import EMAIL, add_account, created_org, tenants


def seed(operator: Operator) -> dict[str, dict[str, Any]]:
    organizations = {
        name: operator.run(created_org(operator.client, name, f"owner@{slug}.example"))
        for name, slug in (
            ("Acme (Rockets)", "acme"),
            ("Acme Widgets", "widgets"),
            ("Globex", "globex"),
        )
    }
    registry = operator.store.master[ORGANIZATIONS]
    acme, globex = organizations["Acme (Rockets)"], organizations["Globex"]
    operator.run(registry.update_one({"_id": ObjectId(acme["id"])}, {"$set": {"plan": "pro"}}))
    operator.run(
        registry.update_one({"_id": ObjectId(globex["id"])}, {"$set": {"status": "suspended"}})
    )
    operator.run(add_account(operator.store, acme["id"], "member@acme.example", Role.MEMBER))
    collection = tenants(operator.store)[acme["tenant_collection"]]
    operator.run(collection.insert_many([{"n": n} for n in range(7)]))
    operator.run(collection.create_index("n", name="by_n", unique=True))
    return organizations


def listed(operator: Operator, *options: str) -> list[str]:
    result = operator.cli("orgs", "list", *options)
    assert result.exit_code == 0, result.output
    return [name for name in ("Acme (Rockets)", "Acme Widgets", "Globex") if name in result.stdout]


def test_list_shows_every_organization_with_its_columns(operator: Operator) -> None:
    organizations = seed(operator)
    result = operator.cli("orgs", "list")
    assert result.exit_code == 0, result.output
    acme = organizations["Acme (Rockets)"]
    row = next(line for line in result.stdout.splitlines() if acme["id"] in line)
    for value in ("Acme (Rockets)", "acme-rockets", "active", "pro", "tenant_acme_rockets"):
        assert value in row
    assert row.split("│")[-2].strip() == "2"  # the owner and the member
    assert "3 organization(s)" in result.stdout


def test_list_filters(operator: Operator) -> None:
    seed(operator)
    assert listed(operator, "--name", "ACME") == ["Acme (Rockets)", "Acme Widgets"]
    # Pattern characters are matched literally.
    assert listed(operator, "--name", "(rockets)") == ["Acme (Rockets)"]
    assert listed(operator, "--name", ".*") == []
    assert listed(operator, "--status", "suspended") == ["Globex"]
    assert listed(operator, "--status", "active") == ["Acme (Rockets)", "Acme Widgets"]
    # No plan recorded means the default plan.
    assert listed(operator, "--plan", "free") == ["Acme Widgets", "Globex"]
    assert listed(operator, "--plan", "pro") == ["Acme (Rockets)"]
    assert listed(operator, "--state", "deleting") == []
    assert listed(operator, "--limit", "1") == ["Acme (Rockets)"]
    assert operator.cli("orgs", "list", "--plan", "gold").exit_code == 2


def test_show_by_name_or_id(operator: Operator) -> None:
    organizations = seed(operator)
    acme = organizations["Acme (Rockets)"]
    for reference in ("  acme   (ROCKETS) ", acme["id"]):
        result = operator.cli("orgs", "show", reference)
        assert result.exit_code == 0, result.output
        for value in (acme["id"], "acme-rockets", "owner@acme.example", "by_n", "n: 1"):
            assert value in result.stdout
        lines = result.stdout.splitlines()
        assert any("documents" in line and "7" in line for line in lines)
        assert any("exists" in line and "yes" in line for line in lines)
        assert any("storage" in line and "n/a" in line for line in lines)
        assert any("members" in line and "2" in line for line in lines)


def test_show_reports_a_missing_collection_and_unknown_names(operator: Operator) -> None:
    organization = operator.run(created_org(operator.client))
    operator.run(tenants(operator.store).drop_collection(organization["tenant_collection"]))
    result = operator.cli("orgs", "show", organization["id"])
    assert result.exit_code == 0, result.output
    assert any("exists" in line and "NO" in line for line in result.stdout.splitlines())
    assert EMAIL in result.stdout

    unknown = operator.cli("orgs", "show", "Nobody Inc")
    assert unknown.exit_code == 1
    assert "No organization has the name or id 'Nobody Inc'" in unknown.stderr


def test_stats(operator: Operator) -> None:
    seed(operator)
    result = operator.cli("stats", "--top", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()

    def count(label: str) -> str:
        return next(line for line in lines if f"│ {label} " in line).split("│")[2].strip()

    assert count("active") == "3"  # per state
    assert count("suspended") == "1"
    assert count("pro") == "1"
    assert count("free") == "2"
    assert count("organizations") == "3"
    top = lines.index(next(line for line in lines if "Top 2 tenants by documents" in line))
    assert "tenant_acme_rockets" in "\n".join(lines[top : top + 5])
    assert "Storage sizes: n/a" in result.stdout

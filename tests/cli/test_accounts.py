"""`accounts create-owner` and `accounts reset-password`, checked through the HTTP API."""

from typing import Any

from bson import ObjectId
from httpx import Response

from app.access.roles import Role
from app.db.schema import ACCOUNTS, MEMBERSHIPS, ORGANIZATIONS
from tests.cli.conftest import Operator
from tests.support import EMAIL, NAME, PASSWORD, add_account, bearer, created_org, login

NEW_PASSWORD = "Correct Horse Battery"


def owner_count(operator: Operator, organization: dict[str, Any]) -> int:
    registry = operator.store.master[ORGANIZATIONS]
    document = operator.run(registry.find_one({"_id": ObjectId(organization["id"])}))
    assert document is not None
    count: int = document["owner_count"]
    return count


def role_of(operator: Operator, email: str, organization: dict[str, Any]) -> str | None:
    account = operator.run(operator.store.master[ACCOUNTS].find_one({"email": email}))
    assert account is not None
    membership = operator.run(
        operator.store.master[MEMBERSHIPS].find_one(
            {"account_id": account["_id"], "organization_id": ObjectId(organization["id"])}
        )
    )
    return None if membership is None else str(membership["role"])


def log_in(operator: Operator, email: str, password: str) -> Response:
    return operator.run(
        operator.client.post("/admin/login", json={"email": email, "password": password})
    )


def test_create_owner_makes_a_new_account_that_can_log_in(operator: Operator) -> None:
    organization = operator.run(created_org(operator.client))
    result = operator.cli(
        "accounts", "create-owner", NAME, "second@techcorp.com", "--password", NEW_PASSWORD
    )
    assert result.exit_code == 0, result.output
    assert "second@techcorp.com: created and made owner of Tech Innovations Corp" in result.stdout
    assert role_of(operator, "second@techcorp.com", organization) == "owner"
    assert owner_count(operator, organization) == 2
    response = log_in(operator, "second@techcorp.com", NEW_PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["org_id"] == organization["id"]
    stored = operator.run(
        operator.store.master[ACCOUNTS].find_one({"email": "second@techcorp.com"})
    )
    assert stored is not None
    assert stored["password_hash"].startswith("$2b$")
    assert NEW_PASSWORD not in str(stored)


def test_create_owner_prompts_twice_for_a_hidden_password(operator: Operator) -> None:
    organization = operator.run(created_org(operator.client))
    typed = f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    result = operator.cli("accounts", "create-owner", organization["id"], "new@x.io", input=typed)
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output  # hidden input is not echoed
    assert "Repeat for confirmation" in result.output
    assert log_in(operator, "new@x.io", NEW_PASSWORD).status_code == 200


def test_create_owner_promotes_a_member_and_leaves_an_owner_alone(operator: Operator) -> None:
    organization = operator.run(created_org(operator.client))
    operator.run(add_account(operator.store, organization["id"], "dev@techcorp.com", Role.MEMBER))

    promoted = operator.cli("accounts", "create-owner", NAME, "DEV@techcorp.com")
    assert promoted.exit_code == 0, promoted.output
    assert "promoted from member to owner" in promoted.stdout
    assert role_of(operator, "dev@techcorp.com", organization) == "owner"
    assert owner_count(operator, organization) == 2

    again = operator.cli("accounts", "create-owner", NAME, EMAIL, "--password", "ignored-pass")
    assert again.exit_code == 0, again.output
    assert "was already an owner; nothing changed" in again.stdout
    assert "--password was not used" in again.stderr
    assert owner_count(operator, organization) == 2
    assert log_in(operator, EMAIL, PASSWORD).status_code == 200


def test_an_organization_that_lost_its_owners_gets_one_back(operator: Operator) -> None:
    organization = operator.run(created_org(operator.client))
    operator.run(
        operator.store.master[MEMBERSHIPS].delete_many(
            {"organization_id": ObjectId(organization["id"])}
        )
    )
    result = operator.cli("accounts", "create-owner", NAME, "rescue@x.io", "--password", "p" * 12)
    assert result.exit_code == 0, result.output
    assert owner_count(operator, organization) == 1
    looked_up = operator.run(operator.client.get("/org/get", params={"organization_name": NAME}))
    assert looked_up.json()["admin_email"] == "rescue@x.io"
    assert operator.cli("verify").exit_code == 1  # the old owner's account belongs to nothing


def test_create_owner_refuses_bad_input(operator: Operator) -> None:
    operator.run(created_org(operator.client))
    short = operator.cli("accounts", "create-owner", NAME, "a@x.io", "--password", "short")
    assert short.exit_code == 1
    assert "The password must be at least 8 bytes long" in short.stderr
    assert operator.run(operator.store.master[ACCOUNTS].find_one({"email": "a@x.io"})) is None

    invalid = operator.cli("accounts", "create-owner", NAME, "not-an-email", "--password", "x" * 9)
    assert invalid.exit_code == 1
    assert "'not-an-email' is not a valid email address" in invalid.stderr

    unknown = operator.cli("accounts", "create-owner", "Nobody", "a@x.io", "--password", "x" * 9)
    assert unknown.exit_code == 1
    assert "No organization" in unknown.stderr


def test_reset_password_changes_it_and_refuses_older_tokens(operator: Operator) -> None:
    operator.run(created_org(operator.client))
    token = operator.run(login(operator.client))
    assert operator.run(operator.client.get("/admin/me", headers=bearer(token))).status_code == 200

    typed = f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    result = operator.cli("accounts", "reset-password", EMAIL.upper(), input=typed)
    assert result.exit_code == 0, result.output
    assert f"{EMAIL}: password changed" in result.stdout

    assert log_in(operator, EMAIL, NEW_PASSWORD).status_code == 200
    assert log_in(operator, EMAIL, PASSWORD).status_code == 401
    stale = operator.run(operator.client.get("/admin/me", headers=bearer(token)))
    assert stale.status_code == 401


def test_reset_password_of_an_unknown_account(operator: Operator) -> None:
    result = operator.cli("accounts", "reset-password", "ghost@x.io", "--password", NEW_PASSWORD)
    assert result.exit_code == 1
    assert "No account has the email 'ghost@x.io'" in result.stderr

"""`platform-keys create`, `list` and `revoke`, checked through the admin API."""

import json

from tests.cli.conftest import Operator
from tests.support import bearer


def test_create_list_and_revoke(operator: Operator) -> None:
    made = operator.cli(
        "platform-keys", "create", "--name", "backend", "--scope", "write", "--json"
    )
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["secret"].startswith(key["prefix"])
    assert key["scopes"] == ["read", "write"]
    headers = bearer(key["secret"])
    response = operator.run(operator.client.get("/api/v1/admin/organizations", headers=headers))
    assert response.status_code == 200

    listed = operator.cli("platform-keys", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)["platform_keys"]
    assert row["prefix"] == key["prefix"]
    assert "secret" not in row
    assert key["secret"] not in listed.stdout
    table = operator.cli("platform-keys", "list")
    assert key["prefix"] in table.stdout

    revoked = operator.cli("platform-keys", "revoke", key["prefix"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.stdout
    response = operator.run(operator.client.get("/api/v1/admin/organizations", headers=headers))
    assert response.status_code == 401
    again = operator.cli("platform-keys", "revoke", key["id"], "--json")
    assert json.loads(again.stdout)["revoked_now"] is False
    unknown = operator.cli("platform-keys", "revoke", "tkp_nonsense")
    assert unknown.exit_code == 1


def test_plain_create_prints_only_the_secret_on_stdout(operator: Operator) -> None:
    made = operator.cli("platform-keys", "create", "--name", "reader")
    assert made.exit_code == 0, made.output
    assert made.stdout.strip().startswith("tkp_")
    assert len(made.stdout.strip().splitlines()) == 1

"""`webhooks list`, `webhooks redeliver` and `events tail` against an app's data."""

import json

from app.db.schema import WEBHOOK_DELIVERIES
from tests.cli.conftest import Operator
from tests.support import bearer, created_org, login

URL = "https://hooks.example.com/in"


def seeded(operator: Operator) -> tuple[str, str]:
    """An organization with one endpoint and a change; its id and the endpoint's."""
    org = operator.run(created_org(operator.client))
    token = operator.run(login(operator.client))
    path = f"/api/v1/organizations/{org['id']}"
    created = operator.run(
        operator.client.post(f"{path}/webhooks", json={"url": URL}, headers=bearer(token))
    )
    assert created.status_code == 201, created.text
    changed = operator.run(
        operator.client.patch(path, json={"description": "x"}, headers=bearer(token))
    )
    assert changed.status_code == 200
    return org["id"], created.json()["id"]


def test_webhooks_list_shows_the_endpoints(operator: Operator) -> None:
    org_id, endpoint_id = seeded(operator)
    result = operator.cli("webhooks", "list", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)["endpoints"]
    assert row["id"] == endpoint_id
    assert row["organization_id"] == org_id
    assert row["enabled"] is True
    shown = operator.cli("webhooks", "list", "--org", org_id)
    assert endpoint_id in shown.stdout
    assert URL in shown.stdout


def test_events_tail_prints_the_newest_events_as_json_lines(operator: Operator) -> None:
    org_id, _ = seeded(operator)
    result = operator.cli("events", "tail", "--org", org_id)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["type"] for line in lines] == [
        "organization.created",
        "organization.profile_updated",
    ]
    assert lines[0]["organization_id"] == org_id


def test_webhooks_redeliver_queues_the_event_again(operator: Operator) -> None:
    org_id, endpoint_id = seeded(operator)
    tail = operator.cli("events", "tail", "--org", org_id, "--limit", "1")
    event_id = json.loads(tail.stdout)["id"]
    result = operator.cli("webhooks", "redeliver", endpoint_id, event_id)
    assert result.exit_code == 0, result.output
    queued = operator.run(
        operator.store.master[WEBHOOK_DELIVERIES].count_documents({"message_id": event_id})
    )
    assert queued == 1
    missing = operator.cli("webhooks", "redeliver", endpoint_id, "evt_none")
    assert missing.exit_code == 1

"""Deliveries end to end, to a real receiver on loopback, verified with the Standard
Webhooks verifier; retries on an injected clock."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from app.webhooks.targets import TargetPolicy
from tests.events.feed import event_types
from tests.webhooks.conftest import Hooks
from tests.webhooks.receiver import Receiver


def verified(secret: str, received: object) -> dict[str, object]:
    body = received.body  # type: ignore[attr-defined]
    headers = received.headers  # type: ignore[attr-defined]
    payload: dict[str, object] = Webhook(secret).verify(body, headers)
    return payload


async def test_an_event_arrives_signed_once_and_the_attempt_is_logged(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = await hooks.endpoint(receiver.url("/ok"), types=["organization.*"])
    assert endpoint["secret"].startswith("whsec_")
    await hooks.change()
    worker = hooks.worker()
    await worker.round()
    await worker.round()
    [received] = receiver.at("/ok")
    payload = verified(endpoint["secret"], received)
    assert payload["type"] == "organization.profile_updated"
    assert payload["organization_id"] == hooks.org_id
    assert received.headers["webhook-id"] == payload["id"]
    assert received.headers["host"] == f"127.0.0.1:{receiver.port}"
    [attempt] = await hooks.attempts(endpoint["id"])
    assert attempt["status"] == 200
    assert attempt["number"] == 1
    assert attempt["excerpt"].startswith("received /ok")
    assert len(attempt["excerpt"]) <= 500
    assert attempt["latency_ms"] > 0
    # The secret is shown once: never in a read.
    read = await hooks.client.get(f"{hooks.path}/{endpoint['id']}", headers=hooks.auth)
    assert "secret" not in read.json()


async def test_only_the_types_an_endpoint_asks_for_are_sent(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.endpoint(receiver.url("/ok"), types=["member.*"])
    await hooks.change()
    await hooks.worker().round()
    assert receiver.received == []


async def test_a_500_is_retried_on_the_schedule(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver.url("/fail-once"))
    await hooks.change()
    worker = hooks.worker()
    await worker.round()
    assert receiver.calls["/fail-once"] == 1
    await worker.round()  # not due yet
    assert receiver.calls["/fail-once"] == 1
    hooks.clock.advance(timedelta(seconds=7))  # past the first delay, 5 s + 20% jitter
    await worker.round()
    assert receiver.calls["/fail-once"] == 2
    first, second = receiver.at("/fail-once")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    verified(endpoint["secret"], second)
    assert [a["status"] for a in await hooks.attempts(endpoint["id"])] == [200, 500]


async def test_an_attempt_that_times_out_is_retried(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver.url("/slow-once"))
    await hooks.change()
    worker = hooks.worker()
    await worker.round()
    [attempt] = await hooks.attempts(endpoint["id"])
    assert attempt["status"] is None
    assert "no answer within" in attempt["error"]
    hooks.clock.advance(timedelta(seconds=7))
    await worker.round()
    assert [a["status"] for a in await hooks.attempts(endpoint["id"])] == [200, None]


async def test_a_redirect_is_not_followed(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver.url("/redirect"))
    await hooks.change()
    await hooks.worker().round()
    assert receiver.calls["/redirect"] == 1
    assert receiver.calls["/ok"] == 0
    [attempt] = await hooks.attempts(endpoint["id"])
    assert attempt["status"] == 307
    assert attempt["error"] == "redirects are not followed"


async def test_two_workers_never_send_the_same_delivery(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.endpoint(receiver.url("/slow"))
    for n in range(6):
        await hooks.change(n)
    one, other = hooks.worker(), hooks.worker()
    await one.fan_out()
    for _ in range(3):
        await asyncio.gather(one.round(), other.round())
    ids = [r.headers["webhook-id"] for r in receiver.at("/slow")]
    assert len(ids) == len(set(ids)) == 6
    # Two per endpoint in each of the two instances.
    assert receiver.most_at_once <= 4


async def test_a_delivery_whose_worker_died_is_sent_once_its_lease_expires(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.endpoint(receiver.url("/ok"))
    await hooks.change()
    dead = hooks.worker(lease=timedelta(milliseconds=300))
    await dead.fan_out()
    # Claimed, then the process died before sending.
    from app.webhooks.repository import DeliveryRepository

    claimed = await DeliveryRepository(hooks.store, timedelta(days=1)).claim(
        hooks.clock(), dead.owner, timedelta(milliseconds=300), []
    )
    assert claimed is not None
    # Every instance judges leases by the same length (its settings).
    survivor = hooks.worker(lease=timedelta(milliseconds=300))
    await survivor.round()
    assert receiver.received == []
    await asyncio.sleep(0.35)
    await survivor.round()
    assert len(receiver.at("/ok")) == 1


async def test_a_rotated_secret_and_its_predecessor_both_verify_during_the_grace(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = await hooks.endpoint(receiver.url("/ok"))
    rotated = await hooks.client.post(
        f"{hooks.path}/{endpoint['id']}/rotate-secret",
        json={"grace_seconds": 3600},
        headers=hooks.auth,
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != endpoint["secret"]
    await hooks.change(1)
    worker = hooks.worker()
    await worker.round()
    [during] = receiver.at("/ok")
    verified(endpoint["secret"], during)
    verified(new, during)
    hooks.clock.advance(timedelta(hours=2))
    await hooks.change(2)
    await worker.round()
    # Signed at the test clock's time, two hours ahead: compared with the signatures the
    # verifier would compute, not put through its timestamp check.
    after = receiver.at("/ok")[-1]
    sent_at = datetime.fromtimestamp(int(after.headers["webhook-timestamp"]), UTC)
    expected = Webhook(new).sign(after.headers["webhook-id"], sent_at, after.body.decode())
    assert after.headers["webhook-signature"] == expected


async def test_an_endpoint_failing_long_enough_is_disabled_and_an_event_says_so(
    hooks: Hooks, receiver: Receiver
) -> None:
    failing = await hooks.endpoint(receiver.url("/always-500"))
    await hooks.endpoint(receiver.url("/ok"), types=["webhook_endpoint.*"])
    await hooks.change()
    worker = hooks.worker(disable_after=timedelta(hours=1))
    await worker.round()
    for _ in range(4):
        hooks.clock.advance(timedelta(minutes=40))
        await worker.round()
    read = await hooks.client.get(f"{hooks.path}/{failing['id']}", headers=hooks.auth)
    assert read.json()["enabled"] is False
    assert "every attempt failed" in read.json()["disabled_reason"]
    types = await event_types(hooks.client, hooks.org_id, hooks.token)
    assert types.count("webhook_endpoint.disabled") == 1
    await worker.round()
    [notice] = receiver.at("/ok")
    assert json.loads(notice.body)["data"]["id"] == failing["id"]
    # Enabled again, it starts afresh.
    enabled = await hooks.client.patch(
        f"{hooks.path}/{failing['id']}", json={"enabled": True}, headers=hooks.auth
    )
    assert enabled.json()["enabled"] is True
    assert enabled.json()["failing_since"] is None


async def test_a_test_message_a_redelivery_and_a_replay(hooks: Hooks, receiver: Receiver) -> None:
    endpoint = await hooks.endpoint(receiver.url("/ok"))
    path = f"{hooks.path}/{endpoint['id']}"
    sent = await hooks.client.post(f"{path}/test", headers=hooks.auth)
    assert sent.status_code == 202
    worker = hooks.worker()
    await worker.round()
    [test] = receiver.at("/ok")
    assert verified(endpoint["secret"], test)["type"] == "webhook.test"
    await hooks.change(1)
    await hooks.change(2)
    await worker.round()
    assert len(receiver.at("/ok")) == 3
    event_id = receiver.at("/ok")[1].headers["webhook-id"]
    again = await hooks.client.post(
        f"{path}/redeliver", json={"event_id": event_id}, headers=hooks.auth
    )
    assert again.status_code == 202, again.text
    await worker.round()
    assert receiver.at("/ok")[-1].headers["webhook-id"] == event_id
    missing = await hooks.client.post(
        f"{path}/redeliver", json={"event_id": "evt_nothing"}, headers=hooks.auth
    )
    assert missing.status_code == 404
    replayed = await hooks.client.post(
        f"{path}/replay",
        json={"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
        headers=hooks.auth,
    )
    assert replayed.status_code == 202, replayed.text
    # The creation, before the endpoint existed, and the two changes.
    assert replayed.json()["queued"] == 3
    for _ in range(2):  # two at a time to one endpoint
        await worker.round()
    assert len(receiver.at("/ok")) == 7


async def test_a_name_resolving_to_loopback_is_not_called_when_private_targets_are_refused(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = await hooks.endpoint(receiver.url("/ok", host="localhost"))
    await hooks.change()
    strict = TargetPolicy(allow_private=False, allow_http=True)
    await hooks.worker(policy=strict).round()
    assert receiver.received == []
    [attempt] = await hooks.attempts(endpoint["id"])
    assert attempt["status"] is None
    assert attempt["error"].startswith("refused:")
    assert "is not a public address" in attempt["error"]


async def test_metrics_count_attempts_by_outcome_and_show_the_queue(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.endpoint(receiver.url("/fail-once"))
    await hooks.change()
    worker = hooks.worker()
    await worker.round()
    await worker.show_queue()
    exposed = (await hooks.client.get("/metrics")).text
    assert 'tenantry_webhook_attempts_total{outcome="retrying"} 1.0' in exposed
    assert "tenantry_webhook_queue_depth 1.0" in exposed
    assert "tenantry_webhook_attempt_duration_seconds_count 1.0" in exposed
    hooks.clock.advance(timedelta(seconds=30))
    await worker.show_queue()
    exposed = (await hooks.client.get("/metrics")).text
    oldest = next(
        line for line in exposed.splitlines() if line.startswith("tenantry_webhook_oldest")
    )
    assert float(oldest.split()[-1]) >= 20
    await worker.round()
    await worker.show_queue()
    exposed = (await hooks.client.get("/metrics")).text
    assert 'tenantry_webhook_attempts_total{outcome="delivered"} 1.0' in exposed
    assert "tenantry_webhook_queue_depth 0.0" in exposed


async def test_document_events_go_only_to_endpoints_that_opt_in(
    hooks: Hooks, receiver: Receiver
) -> None:
    everything = await hooks.endpoint(receiver.url("/ok"), types=["*"])
    documents = await hooks.endpoint(receiver.url("/slow"), types=["document.*"])
    path = f"/api/v1/organizations/{hooks.org_id}/documents"
    created = await hooks.client.post(path, json={"secret": "body"}, headers=hooks.auth)
    assert created.status_code == 201, created.text
    document_id = created.json()["id"]
    replaced = await hooks.client.put(
        f"{path}/{document_id}", json={"secret": "again"}, headers=hooks.auth
    )
    assert replaced.status_code == 200, replaced.text
    deleted = await hooks.client.delete(f"{path}/{document_id}", headers=hooks.auth)
    assert deleted.status_code == 200, deleted.text
    worker = hooks.worker()
    for _ in range(3):
        await worker.round()
    assert receiver.at("/ok") == []
    sent = [verified(documents["secret"], r) for r in receiver.at("/slow")]
    assert sorted((m["type"], m["data"]["version"]) for m in sent) == [  # type: ignore[index]
        ("document.created", 1),
        ("document.deleted", 2),
        ("document.updated", 2),
    ]
    assert all(m["data"]["id"] == document_id for m in sent)  # type: ignore[index]
    assert all("secret" not in json.dumps(m["data"]) for m in sent)
    assert everything["id"] != documents["id"]


async def test_without_an_endpoint_that_opts_in_documents_make_no_events(
    hooks: Hooks,
) -> None:
    await hooks.endpoint("http://127.0.0.1:9/never", types=["*"])
    path = f"/api/v1/organizations/{hooks.org_id}/documents"
    created = await hooks.client.post(path, json={"n": 1}, headers=hooks.auth)
    assert created.status_code == 201
    assert await event_types(hooks.client, hooks.org_id, hooks.token) == ["organization.created"]


async def test_a_worker_stopped_as_it_is_woken_stops(hooks: Hooks) -> None:
    worker = hooks.worker()
    running = asyncio.create_task(worker.run())
    await asyncio.sleep(0.2)  # a round with nothing to do, then the wait for a wake-up

    worker.wake()
    running.cancel()
    await asyncio.wait([running], timeout=10)

    assert running.cancelled()

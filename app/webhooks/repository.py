"""Every query on the webhook collections: endpoints, deliveries (the queue the workers
claim from) and attempts (the log)."""

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.schema import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS
from app.db.store import Document, Store
from app.webhooks.models import (
    FINAL_TYPES,
    Attempt,
    Delivery,
    DeliveryState,
    Dormancy,
    Endpoint,
    Outcome,
    SigningSecret,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ENDPOINTS_OLDEST_FIRST = Keyset("webhook_endpoints", "created_at", Kind.DATETIME)
ATTEMPTS_NEWEST_FIRST = Keyset("webhook_attempts", "at", Kind.DATETIME, descending=True)


class EndpointRepository:
    def __init__(self, store: Store) -> None:
        self._endpoints = store.master[WEBHOOK_ENDPOINTS]

    async def insert(self, endpoint: Endpoint) -> None:
        await self._endpoints.insert_one(endpoint.to_document())

    async def get(self, organization_id: ObjectId, endpoint_id: ObjectId) -> Endpoint | None:
        document = await self._endpoints.find_one(
            {"_id": endpoint_id, "organization_id": organization_id}
        )
        return Endpoint.from_document(document) if document else None

    async def by_id(self, endpoint_id: ObjectId) -> Endpoint | None:
        document = await self._endpoints.find_one({"_id": endpoint_id})
        return Endpoint.from_document(document) if document else None

    async def page(self, organization_id: ObjectId, window: Window) -> Slice[Endpoint]:
        reading = ENDPOINTS_OLDEST_FIRST.read(window, organization=organization_id)
        page = await reading.page(self._endpoints, {"organization_id": organization_id})
        return page.with_items([Endpoint.from_document(d) for d in page.items])

    async def enabled_of(self, organization_id: ObjectId) -> list[Endpoint]:
        cursor = self._endpoints.find({"organization_id": organization_id}).sort(
            [("organization_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [Endpoint.from_document(d) async for d in cursor if d.get("enabled")]

    async def any_enabled_wanting(self, organization_id: ObjectId, patterns: list[str]) -> bool:
        found = await self._endpoints.find_one(
            {"organization_id": organization_id, "enabled": True, "types": {"$in": patterns}},
            {"_id": 1},
        )
        return found is not None

    async def all(self, organization_id: ObjectId | None) -> list[Endpoint]:
        query = {"organization_id": organization_id} if organization_id else {}
        return [Endpoint.from_document(d) async for d in self._endpoints.find(query)]

    async def update(
        self, organization_id: ObjectId, endpoint_id: ObjectId, changes: Document
    ) -> Endpoint | None:
        update: Document = {"$set": changes}
        if changes.get("enabled") is True:
            update["$unset"] = {"failing_since": "", "disabled_reason": ""}
        document = await self._endpoints.find_one_and_update(
            {"_id": endpoint_id, "organization_id": organization_id},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return Endpoint.from_document(document) if document else None

    async def set_secrets(self, endpoint_id: ObjectId, secrets: list[SigningSecret]) -> None:
        await self._endpoints.update_one(
            {"_id": endpoint_id}, {"$set": {"secrets": [s.to_document() for s in secrets]}}
        )

    async def delete(self, organization_id: ObjectId, endpoint_id: ObjectId) -> bool:
        result = await self._endpoints.delete_one(
            {"_id": endpoint_id, "organization_id": organization_id}
        )
        return result.deleted_count == 1

    async def failing(self, endpoint_id: ObjectId, since: datetime) -> datetime:
        """Note that the endpoint fails from `since` on (unless it already did); since when."""
        await self._endpoints.update_one(
            {"_id": endpoint_id, "failing_since": {"$exists": False}},
            {"$set": {"failing_since": since}},
        )
        document = await self._endpoints.find_one({"_id": endpoint_id}, {"failing_since": 1})
        found = (document or {}).get("failing_since") or since
        return found if found.tzinfo else found.replace(tzinfo=since.tzinfo)

    async def working(self, endpoint_id: ObjectId) -> None:
        await self._endpoints.update_one(
            {"_id": endpoint_id, "failing_since": {"$exists": True}},
            {"$unset": {"failing_since": ""}},
        )

    async def disable(self, endpoint_id: ObjectId, reason: str) -> bool:
        """Disable an endpoint that is still enabled; whether this call did."""
        result = await self._endpoints.update_one(
            {"_id": endpoint_id, "enabled": True},
            {"$set": {"enabled": False, "disabled_reason": reason}},
        )
        return result.modified_count == 1

    async def set_dormant(self, organization_id: ObjectId, dormancy: Dormancy | None) -> None:
        """Mark every endpoint of the organization (None: wake them, after a restore)."""
        if dormancy is None:
            await self._endpoints.update_many(
                {"organization_id": organization_id}, {"$unset": {"dormant": ""}}
            )
            return
        await self._endpoints.update_many(
            {"organization_id": organization_id}, {"$set": {"dormant": dormancy.value}}
        )

    async def purged(self, limit: int) -> list[Endpoint]:
        """Endpoints of purged organizations, waiting to be removed."""
        cursor = self._endpoints.find({"dormant": Dormancy.PURGED.value}).limit(limit)
        return [Endpoint.from_document(d) async for d in cursor]

    async def remove(self, endpoint_id: ObjectId) -> None:
        await self._endpoints.delete_one({"_id": endpoint_id})


class DeliveryRepository:
    def __init__(self, store: Store, retention: timedelta) -> None:
        self._deliveries = store.master[WEBHOOK_DELIVERIES]
        self._attempts = store.master[WEBHOOK_ATTEMPTS]
        self._retention = retention

    async def enqueue(
        self,
        endpoint: Endpoint,
        message_id: str,
        event_type: str,
        payload: str,
        now: datetime,
        *,
        key: str | None = None,
    ) -> bool:
        """Queue a delivery, due now. `key` makes it once-only (an event's fan-out, repeated
        after a crash, queues nothing twice); whether it was queued."""
        document = {
            "_id": key or str(ObjectId()),
            "organization_id": endpoint.organization_id,
            "endpoint_id": endpoint.id,
            "message_id": message_id,
            "event_type": event_type,
            "payload": payload,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            # Free: taken at the epoch, expired for any lease length.
            "lease": {"owner": None, "taken_at": _EPOCH},
            "due_at": now,
            "created_at": now,
            "expires_at": now + self._retention,
        }
        try:
            await self._deliveries.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def claim(
        self, now: datetime, owner: str, lease: timedelta, busy: list[ObjectId]
    ) -> Delivery | None:
        """Take the oldest due delivery whose lease is free (never taken, released, or taken
        more than `lease` ago on the server's clock), for `lease`; none of the `busy`
        endpoints'. The lease is stamped with `$currentDate` and judged against `$$NOW`, as
        write leases are, so instances whose clocks disagree agree on whose it is."""
        lease_ms = int(lease.total_seconds() * 1000)
        query: Document = {
            "state": DeliveryState.PENDING.value,
            "due_at": {"$lte": now},
            "$expr": {"$lte": ["$lease.taken_at", {"$subtract": ["$$NOW", lease_ms]}]},
        }
        if busy:
            query["endpoint_id"] = {"$nin": busy}
        document = await self._deliveries.find_one_and_update(
            query,
            {"$set": {"lease.owner": owner}, "$currentDate": {"lease.taken_at": {"$type": "date"}}},
            sort=[("state", ASCENDING), ("due_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return Delivery.from_document(document) if document else None

    async def finish(
        self, delivery: Delivery, owner: str, state: DeliveryState, due_at: datetime | None
    ) -> bool:
        """Record an attempt's result and free the lease, if it is still `owner`'s."""
        fields: Document = {"state": state.value, "attempts": delivery.attempts + 1}
        if due_at is not None:
            fields["due_at"] = due_at
        fields["lease"] = {"owner": None, "taken_at": _EPOCH}
        result = await self._deliveries.update_one(
            {"_id": delivery.id, "lease.owner": owner}, {"$set": fields}
        )
        return result.modified_count == 1

    async def log(self, delivery: Delivery, at: datetime, outcome: Outcome) -> None:
        await self._attempts.insert_one(
            {
                "delivery_id": delivery.id,
                "endpoint_id": delivery.endpoint_id,
                "message_id": delivery.message_id,
                "event_type": delivery.event_type,
                "at": at,
                "number": delivery.attempts + 1,
                "status": outcome.status,
                "latency_ms": outcome.latency_ms,
                "excerpt": outcome.excerpt,
                "error": outcome.error,
                "expires_at": at + self._retention,
            }
        )

    async def attempts(self, endpoint_id: ObjectId, window: Window) -> Slice[Attempt]:
        reading = ATTEMPTS_NEWEST_FIRST.read(window, endpoint=endpoint_id)
        page = await reading.page(self._attempts, {"endpoint_id": endpoint_id})
        return page.with_items([Attempt.from_document(d) for d in page.items])

    async def attempts_of(self, delivery_id: str) -> list[Attempt]:
        cursor = self._attempts.find({"delivery_id": delivery_id}).sort("at", ASCENDING)
        return [Attempt.from_document(d) async for d in cursor]

    async def queue_depth(self) -> int:
        return await self._deliveries.count_documents({"state": DeliveryState.PENDING.value})

    async def oldest_pending(self) -> datetime | None:
        document = await self._deliveries.find_one(
            {"state": DeliveryState.PENDING.value},
            {"due_at": 1},
            sort=[("state", ASCENDING), ("due_at", ASCENDING)],
        )
        if document is None:
            return None
        moment: datetime = document["due_at"]
        return moment

    async def hold(self, delivery: Delivery, owner: str) -> None:
        """Put a claimed delivery aside, unattempted, until its organization is restored."""
        await self._deliveries.update_one(
            {"_id": delivery.id, "lease.owner": owner},
            {
                "$set": {
                    "state": DeliveryState.HELD.value,
                    "lease": {"owner": None, "taken_at": _EPOCH},
                }
            },
        )

    async def release_held(self, organization_id: ObjectId, now: datetime) -> None:
        """The organization is back: its held deliveries are due now."""
        await self._deliveries.update_many(
            {"organization_id": organization_id, "state": DeliveryState.HELD.value},
            {"$set": {"state": DeliveryState.PENDING.value, "due_at": now}},
        )

    async def drop_all_but_final(self, organization_id: ObjectId) -> None:
        """The organization is purged: only its last events are still to be sent."""
        waiting = [DeliveryState.PENDING.value, DeliveryState.HELD.value]
        await self._deliveries.delete_many(
            {
                "organization_id": organization_id,
                "state": {"$in": waiting},
                "event_type": {"$nin": list(FINAL_TYPES)},
            }
        )

    async def any_pending(self, organization_id: ObjectId) -> bool:
        """Whether a delivery to one of the organization's endpoints is still to be tried."""
        found = await self._deliveries.find_one(
            {"organization_id": organization_id, "state": DeliveryState.PENDING.value},
            {"_id": 1},
        )
        return found is not None

    async def remove_all_of(self, endpoint_id: ObjectId) -> None:
        """An endpoint removed for good: its attempts, then its deliveries."""
        await self._attempts.delete_many({"endpoint_id": endpoint_id})
        await self._deliveries.delete_many({"endpoint_id": endpoint_id})

    async def fail_pending_of(self, endpoint_id: ObjectId) -> None:
        """An endpoint gone or disabled: its queued deliveries will not be tried."""
        await self._deliveries.update_many(
            {"state": DeliveryState.PENDING.value, "endpoint_id": endpoint_id},
            {"$set": {"state": DeliveryState.FAILED.value}},
        )

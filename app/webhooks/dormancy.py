"""The webhook endpoints of a deleted organization (steps of its lifecycle).

While an organization is deleted its endpoints are dormant: they are sent its
`organization.deleted` and `organization.purged` events and nothing else; any other delivery
is held, unattempted. A restore wakes them and their held deliveries go out. A purge marks
them purged and drops every delivery but those two events'; the delivery worker removes
each one, with its deliveries and attempts, once nothing is left to send it
(`DeliveryWorker.remove_purged`). Each step is one idempotent write per collection, so the
lifecycle repeats it safely when it finishes an operation a crash interrupted.
"""

from collections.abc import Callable
from datetime import datetime

from bson import ObjectId

from app.webhooks.models import Dormancy
from app.webhooks.repository import DeliveryRepository, EndpointRepository


class OrganizationWebhooks:
    def __init__(
        self,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        clock: Callable[[], datetime],
    ) -> None:
        self._endpoints = endpoints
        self._deliveries = deliveries
        self._clock = clock

    async def hold(self, organization_id: ObjectId) -> None:
        await self._endpoints.set_dormant(organization_id, Dormancy.DELETED)

    async def release(self, organization_id: ObjectId) -> None:
        await self._endpoints.set_dormant(organization_id, None)
        await self._deliveries.release_held(organization_id, self._clock())

    async def retire(self, organization_id: ObjectId) -> None:
        await self._endpoints.set_dormant(organization_id, Dormancy.PURGED)
        await self._deliveries.drop_all_but_final(organization_id)

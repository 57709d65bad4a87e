"""Whether an organization has an endpoint that opted in to tenant-document events: asked on
every document write, so answered from memory for a few seconds. A change of endpoints made
through this instance is seen at once; one made through another instance within
`CACHE_SECONDS`."""

import time

from bson import ObjectId

from app.events.catalogue import DOCUMENT_TYPES
from app.webhooks.repository import EndpointRepository

CACHE_SECONDS = 5.0
DOCUMENT_PATTERNS = sorted({"document.*", *(t.value for t in DOCUMENT_TYPES)})
_MAX_CACHED = 10_000


class DocumentSubscriptions:
    def __init__(self, endpoints: EndpointRepository) -> None:
        self._endpoints = endpoints
        self._known: dict[ObjectId, tuple[float, bool]] = {}

    async def wanted(self, organization_id: ObjectId) -> bool:
        now = time.monotonic()
        known = self._known.get(organization_id)
        if known is not None and known[0] > now:
            return known[1]
        wanted = await self._endpoints.any_enabled_wanting(organization_id, DOCUMENT_PATTERNS)
        if len(self._known) >= _MAX_CACHED:
            self._known.clear()
        self._known[organization_id] = (now + CACHE_SECONDS, wanted)
        return wanted

    def forget(self, organization_id: ObjectId) -> None:
        self._known.pop(organization_id, None)

"""`GET /ready` and `GET /metrics`."""

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from app.api.bodies import CheckedBodyRoute
from app.api.deps import ServicesDep

logger = logging.getLogger(__name__)
router = APIRouter(
    route_class=CheckedBodyRoute,
    tags=["monitoring"],
    generate_unique_id_function=lambda route: route.name,
)

READY_TIMEOUT_SECONDS = 2.0


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: Literal["ok", "unreachable"]


@router.get(
    "/ready",
    summary="Readiness: MongoDB answers",
    responses={503: {"model": Readiness, "description": "MongoDB did not answer in time."}},
)
async def ready(services: ServicesDep, response: Response) -> Readiness:
    """Public. Unlike `/health`, pings MongoDB (2 s at most): route traffic here only when 200."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await services.store.ping()
    except Exception as exc:  # any failure to answer means not ready
        logger.warning("not ready: MongoDB did not answer (%s)", type(exc).__name__)
        response.status_code = 503
        return Readiness(status="unavailable", database="unreachable")
    return Readiness(status="ready", database="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
async def metrics(services: ServicesDep) -> Response:
    """Public on purpose for scrapers; expose it only on a network your Prometheus reaches."""
    metrics = services.metrics
    counts = await services.organization_registry.count_by_state()
    for state, count in counts.items():
        metrics.organizations.labels(state).set(count)
    if services.capacity.report is not None:
        metrics.show_capacity(services.capacity.report)
    return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

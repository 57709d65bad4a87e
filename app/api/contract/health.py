"""`GET /health`: the process is up and serving."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.bodies import CheckedBodyRoute

router = APIRouter(
    route_class=CheckedBodyRoute,
    tags=["health"],
    generate_unique_id_function=lambda route: route.name,
)


class Health(BaseModel):
    status: str = "operational"
    service: str = "Organization Management API"


@router.get("/health", summary="Liveness")
async def health() -> Health:
    """Public. Answers without touching the database, so it reflects the process alone."""
    return Health()

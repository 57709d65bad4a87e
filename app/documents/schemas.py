"""Request and response bodies of the tenant documents endpoints."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from app.kit.request_body import RequestBody
from app.kit.times import Timestamp


class TenantDocument(BaseModel):
    """Your fields as you stored them, beside the ones the server keeps."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "id": "665f1c2e9b1e8a3d4c5b6a79",
                    "workspace_id": "665f1c2e9b1e8a3d4c5b6a70",
                    "created_at": "2026-12-03T09:15:00.123Z",
                    "updated_at": "2026-12-03T09:15:00.123Z",
                    "version": 1,
                    "title": "Quarterly report",
                    "status": "open",
                }
            ]
        },
    )

    # Documents written through the API always have every server field; ones an operator
    # imported may lack some.
    id: str = Field(description="Set by the server.")
    workspace_id: str | None = Field(default=None, description="The workspace it belongs to.")
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    version: int | None = Field(
        default=None, description="1 when created, one more at each change; the ETag."
    )


class DocumentFields(RootModel[dict[str, Any]]):
    """Your fields: any JSON object. Names may not start with `$` or hold `.`; the server's
    fields (`id`, `workspace_id`, `created_at`, `updated_at`, `version`) are its own."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Quarterly report", "status": "open"}]}
    )


class DocumentBatch(RequestBody):
    documents: list[DocumentFields]

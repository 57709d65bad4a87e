"""Request and response bodies of the tenant documents endpoints."""

from typing import Any

from pydantic import RootModel

from app.kit.request_body import RequestBody


class TenantDocument(RootModel[dict[str, Any]]):
    """Your fields, plus `id`, `created_at`, `updated_at` and `version` set by the server."""


class DocumentBatch(RequestBody):
    documents: list[dict[str, Any]]

"""The base of every request body: unknown fields are refused, not silently dropped."""

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

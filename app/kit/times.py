"""One time format on the wire: RFC 3339 in UTC with `Z`, to the millisecond BSON keeps."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def rfc3339(moment: datetime) -> str:
    """`2026-12-03T09:15:00.123Z`. A naive datetime (as MongoDB hands them back) is UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


Timestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339, UTC: `2026-12-03T09:15:00.123Z`.",
        }
    ),
]

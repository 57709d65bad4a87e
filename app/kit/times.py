"""One time format on the wire: RFC 3339 in UTC with `Z`, to the millisecond BSON keeps, and
RFC 3339 date-times alone accepted from clients."""

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

# RFC 3339 §5.6 `date-time`: a full date, `T`, a full time and an offset (`Z` or `+hh:mm`).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)


def rfc3339(moment: datetime) -> str:
    """`2026-12-03T09:15:00.123Z`. A naive datetime (as MongoDB hands them back) is UTC.
    Milliseconds are cut, not rounded, as BSON cuts them; the year always has 4 digits."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return f"{moment.isoformat(timespec='milliseconds')}Z"


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


def _rfc3339_only(value: object) -> object:
    """Refuse what pydantic would also read as a datetime: numbers (Unix times, `0.5`
    included), dates alone, times without an offset."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "must be an RFC 3339 date-time with an offset, e.g. 2026-12-03T09:15:00Z "
            "(in a URL, send + as %2B)"
        )
    return value


# A date-time a client sends (a query parameter): RFC 3339 only, as an aware UTC datetime.
Rfc3339Input = Annotated[
    datetime,
    BeforeValidator(_rfc3339_only),
    AfterValidator(lambda moment: moment.astimezone(UTC)),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 with an offset: `2026-12-03T09:15:00Z`.",
        }
    ),
]

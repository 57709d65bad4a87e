"""The one time format on the wire."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.kit.times import rfc3339


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2026, 12, 3, 9, 15, 0, 123456), "2026-12-03T09:15:00.123Z"),
        (datetime(2026, 12, 3, 9, 15, 0, 123999, tzinfo=UTC), "2026-12-03T09:15:00.123Z"),
        (datetime(2026, 12, 3, 9, 15), "2026-12-03T09:15:00.000Z"),
        (
            datetime(2026, 1, 1, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2025-12-31T21:00:00.000Z",
        ),
        (datetime(5, 1, 2, 3, 4, 5), "0005-01-02T03:04:05.000Z"),
    ],
    ids=["naive", "aware UTC, cut not rounded", "whole seconds", "another offset", "year 5"],
)
def test_a_moment_is_shown_in_utc_to_the_millisecond(moment: datetime, shown: str) -> None:
    assert rfc3339(moment) == shown

"""The datetimes we store: aware, in UTC, and in years that both Python and PostgreSQL read back.

9999-12-31T23:59:59-10:00 overflows Python when converted to UTC, and a year past 9999 stored by
PostgreSQL cannot be read back into a Python datetime: one such value would break every read of its row.
"""

from datetime import UTC, datetime

EARLIEST_YEAR, LATEST_YEAR = 1900, 9000


def storable_utc(value: datetime) -> datetime | None:
    """``value`` in UTC (a naive one is taken as UTC), or None when it cannot be stored and read back."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        return None
    return value if EARLIEST_YEAR <= value.year <= LATEST_YEAR else None

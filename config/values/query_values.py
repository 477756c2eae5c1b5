"""Values from outside that a database refuses in a query, found before the query is sent.

A filter value can be valid Python and still fail in the database, which then answers with an error (a
500 for the request, and on PostgreSQL an aborted transaction): PostgreSQL refuses a NUL in text and a
time-zone offset of 16 hours or more; SQLite cannot convert to UTC a time that leaves Python's years
1–9999 once shifted; neither holds an integer past 64 bits. The admin changelists (``config.admin``), the
API's filters and cursors (``config.web.api``) all ask ``query_value_problem`` about what they were given, so
the same value gets the same answer everywhere, on both databases.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

# PostgreSQL's limit ("time zone displacement out of range" from ±16:00 on); no real zone comes near it.
LARGEST_OFFSET = timedelta(hours=15, minutes=59, seconds=59)
SMALLEST_INTEGER, LARGEST_INTEGER = -(2**63), 2**63 - 1


def query_value_problem(value) -> str | None:
    """Why ``value`` cannot be sent to the database as a query parameter, or None when it can."""
    if isinstance(value, str):
        return "must not contain a NUL character" if "\x00" in value else None
    if isinstance(value, datetime):
        return _datetime_problem(value)
    if isinstance(value, bool | date):
        return None
    if isinstance(value, int):
        return None if SMALLEST_INTEGER <= value <= LARGEST_INTEGER else "is out of range"
    if isinstance(value, list | tuple | set | frozenset):
        return first_problem(value)
    return None


def first_problem(values: Iterable) -> str | None:
    return next((problem for value in values if (problem := query_value_problem(value)) is not None), None)


def _datetime_problem(value: datetime) -> str | None:
    offset = value.utcoffset()
    if offset is None:
        return None
    if abs(offset) > LARGEST_OFFSET:
        return "has a time-zone offset beyond ±15:59"
    try:
        value.astimezone(UTC)
    except OverflowError:
        return "is out of range once converted to UTC"
    return None

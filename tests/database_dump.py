"""A genuinely full dump of the test database, to search for a person's data after an erasure.

SQLite: ``iterdump()`` of the test connection (schema and every row of every table, as SQL).
PostgreSQL: every row of every table of every non-system schema, each rendered as text by the database
itself (``SELECT t::text``), read through the test's own connection so uncommitted test data is seen.

Values can sit in the dump in more than one spelling: JSON escapes non-ASCII characters (``\\u00e3``) and
binary columns (the raw webhook body) come out as hex, and the contact's search column holds it folded
(no accents, lower case: ``contacts.search.fold``). ``spellings_of`` lists every one of them.
"""

import json

from django.db import connection

from contacts.search import fold


def full_dump() -> str:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "\n".join(connection.connection.iterdump())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables"
                " WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                " ORDER BY 1"
            )
            tables = [row[0] for row in cursor.fetchall()]
            lines = []
            for table in tables:
                cursor.execute(f"SELECT t::text FROM {table} AS t")  # noqa: S608  (names from the catalog)
                lines.extend(f"{table}: {row[0]}" for row in cursor.fetchall())
        return "\n".join(lines)
    raise NotImplementedError(connection.vendor)


def spellings_of(value: str) -> set[str]:
    """The value as text, JSON-escaped, folded for search, and all as the hex of their UTF-8 bytes
    (case-folded)."""
    texts = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], fold(value)}
    return {spelling.casefold() for spelling in texts | {text.encode().hex() for text in texts}}


def found_in(dump: str, values) -> list[str]:
    """The values (any spelling) that the dump still holds."""
    haystack = dump.casefold()
    return sorted({value for value in values if any(spelling in haystack for spelling in spellings_of(value))})

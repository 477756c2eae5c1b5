"""A genuinely full dump of the test database, to search for a person's data after an erasure.

SQLite: ``iterdump()`` of the test connection (schema and every row of every table, as SQL).
PostgreSQL: every row of every table of every non-system schema, each rendered as text by the database
itself (``SELECT t::text``), read through the test's own connection so uncommitted test data is seen.

Values can sit in the dump in more than one spelling: JSON escapes non-ASCII characters (``\\u00e3``) and
binary columns (the raw webhook body) come out as hex, and the contact's search column holds it folded
(no accents, lower case: ``contacts.search.fold``). ``spellings_of`` lists every one of them.
"""

import base64
import gzip
import json
import re
import unicodedata
import zlib
from urllib.parse import quote, quote_plus

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


# --- the personal-data oracle's search (tests/contacts/test_personal_data_oracle.py) ----------------------
_HEX_RUN = re.compile(r"(?:X'|\\\\x|\\x)([0-9a-fA-F]{8,})")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{12,}={0,2}")


def decoded_dump() -> str:
    """``full_dump`` with every binary value also decoded (UTF-8, UTF-16, UTF-32, and zlib/gzip
    decompressed), and every base64-looking run also decoded: a value is found whatever encoding a sender
    chose for its body."""
    dump = full_dump()
    decoded = [dump]
    for run in _HEX_RUN.findall(dump):
        data = bytes.fromhex(run[: len(run) // 2 * 2])
        decoded.extend(_texts_of(data))
    decoded.extend(
        text for run in _BASE64_RUN.findall("\n".join(decoded)) for text in _texts_of(_base64(run), recurse=False)
    )
    return "\n".join(decoded)


def _base64(run: str) -> bytes:
    try:
        return base64.b64decode(run + "=" * (-len(run) % 4))
    except ValueError:
        return b""


def _texts_of(data: bytes, *, recurse: bool = True) -> list[str]:
    texts = []
    for codec in ("utf-8", "utf-16", "utf-32"):
        try:
            texts.append(data.decode(codec))
        except UnicodeDecodeError:
            continue
    if recurse:
        for decompress in (zlib.decompress, gzip.decompress):
            try:
                texts.extend(_texts_of(decompress(data), recurse=False))
            except (OSError, zlib.error, EOFError):
                continue
    return texts


def oracle_forms(value: str) -> set[str]:
    """Every usual spelling of a value: raw, lower-case, unaccented, JSON-escaped, percent-encoded, base64
    (of its UTF-8, UTF-16 and UTF-32), each also as the hex of its UTF-8 (``spellings_of``)."""
    forms = set(spellings_of(value))
    unaccented = "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))
    for text in (value, value.lower(), unaccented, unaccented.lower()):
        forms |= {text, quote(text, safe=""), quote_plus(text), json.dumps(text)[1:-1]}
        for codec in ("utf-8", "utf-16-le", "utf-32-le"):
            forms.add(base64.b64encode(text.encode(codec)).decode().rstrip("="))
    return {form.casefold() for form in forms if len(form) >= 4}


def oracle_hits(dump: str, values) -> list[str]:
    """The values the (decoded) dump still holds, in any of ``oracle_forms``."""
    haystack = dump.casefold()
    return sorted({value for value in values if any(form in haystack for form in oracle_forms(value))})

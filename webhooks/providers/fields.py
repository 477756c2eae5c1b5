"""What an envelope's values may be: ids, types and times we can store, and actors as plain ids."""

import re
import unicodedata
from datetime import datetime
from typing import Any

from config.values.text_columns import text_column_problem
from config.values.timestamps import storable_utc

REDACTED = "[redacted]"


class EnvelopeError(Exception):
    """The body is not an envelope we can store. The message is safe to send back (no payload values)."""


def parse_timestamp(value: Any, *, field: str) -> datetime:
    """ISO-8601 to an aware datetime (UTC when the offset is missing)."""
    if not isinstance(value, str):
        raise EnvelopeError(f"'{field}' must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EnvelopeError(f"'{field}' is not an ISO-8601 timestamp") from None
    storable = storable_utc(parsed)
    if storable is None:
        raise EnvelopeError(f"'{field}' is out of range")
    return storable


# The widths of WebhookEvent's id and type columns: longer values are refused with a 400 rather than
# failing at storage, which would answer 503 and have the provider retry in vain.
MAX_ID_LENGTH = 128
MAX_EVENT_TYPE_LENGTH = 100
# Actors are cut to the narrowest column that stores them (WebhookEvent.actor_id/actor_type,
# ErasureRecord.requested_by/requested_by_type), never refused: a deletion must erase whoever it names.
MAX_ACTOR_ID_LENGTH = 128
MAX_ACTOR_TYPE_LENGTH = 32
# Stored instead of an actor that is not a plain id (an object, a list, a boolean): its text could name a
# person, and it is kept in the append-only erasure log.
NOT_A_STRING_ID = "(not a string id)"


def as_id(value: Any, *, field: str) -> str:
    """Ids are stored as strings and never validated for shape (providers document several)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EnvelopeError(f"'{field}' must be a string or a number")
    text = str(value).strip()
    if not text:
        raise EnvelopeError(f"'{field}' must not be empty")
    return check_stored_text(text, field=field, max_length=MAX_ID_LENGTH)


def as_event_type(value: Any, *, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"'{field}' must be a non-empty string")
    return check_stored_text(value, field=field, max_length=MAX_EVENT_TYPE_LENGTH)


def actor_fields(actor_id: Any, actor_type: Any) -> dict[str, str]:
    """The ``ContactEvent`` actor arguments from whatever a payload says made the change: every provider
    builds them here, so that every event row and erasure record holds a plain id or the marker."""
    return {
        "actor_id": plain_id(actor_id, max_length=MAX_ACTOR_ID_LENGTH),
        "actor_type": plain_id(actor_type, max_length=MAX_ACTOR_TYPE_LENGTH),
    }


# What an id looks like in the providers' docs (``usr_321``, UUIDs, numbers): ASCII letters, digits and
# ``_ . : -``. No whitespace and no ``@``, so neither a name nor an email address ever passes for one.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]+")


def plain_id(value: Any, *, max_length: int) -> str:
    """A string or whole number as its text without control or format characters (NUL, escapes, bidi
    overrides), trimmed and cut to ``max_length``, when what is left is a plain id; '' for none or an
    empty string; ``NOT_A_STRING_ID`` for anything else (an object, a list, a name, an email address)."""
    if value is None:
        return ""
    if isinstance(value, str) and _PLAIN_ID.fullmatch(value):
        return value[:max_length]  # already plain (the usual case): nothing to strip, no character to drop
    if isinstance(value, bool) or not isinstance(value, str | int):
        return NOT_A_STRING_ID
    text = "".join(ch for ch in str(value) if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    if text and not _PLAIN_ID.fullmatch(text):
        return NOT_A_STRING_ID
    return text[:max_length]


def check_stored_text(text: str, *, field: str, max_length: int) -> str:
    """A value stored in one of the event's text columns, or ``EnvelopeError`` saying why it cannot be."""
    if (problem := text_column_problem(text, max_length=max_length)) is not None:
        raise EnvelopeError(f"'{field}' {problem}")
    return text

"""What may survive an erasure, declared (Fides-style): each provider module lists, per event family, every
field that can never describe a person, with its type and validator. A stored copy about an erased contact
is *rebuilt* from that declaration, never redacted by guessing: an undeclared key is dropped (a key can be
personal data too), a declared value that fails its validator becomes ``MARKER``, and a declared field that
does describe the person (``Personal``) keeps only its key, with ``MARKER`` as its value.

A schema is a dict of payload keys to rules; a nested dict declares an object (all of whose undeclared keys
go too). docs/erasure-rules.md has the table of every provider's fields.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.values.erased_ids import stored_id
from config.values.timestamps import storable_utc
from webhooks.providers.fields import REDACTED, plain_id

MARKER = REDACTED
# Whole numbers a provider sends as ids or codes (FPT's location, contact, status and sub-group ids):
# PostgreSQL's bigint range, like the columns that store them.
MAX_ID_NUMBER = 2**63 - 1


class Rule:
    """A declared field: ``rebuilt(value)`` is what survives of it (``MARKER`` when it fails)."""

    def rebuilt(self, value: Any) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Id(Rule):
    """An id: kept in plain form, else as its keyed digest (``config.values.erased_ids``); a whole number as
    itself (FPT's ids). Anything else (an object, a list, a fraction, a boolean) is no id."""

    def rebuilt(self, value):
        if isinstance(value, str) and value:
            return stored_id(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_ID_NUMBER:
            return value
        return MARKER


@dataclass(frozen=True)
class Actor(Rule):
    """Who made a change: the plain id the event and the erasure record keep (``plain_id``), or the
    ``NOT_A_STRING_ID`` marker they keep instead of anything else."""

    max_length: int

    def rebuilt(self, value):
        return plain_id(value, max_length=self.max_length)


@dataclass(frozen=True)
class Time(Rule):
    """An ISO-8601 time, written again from the parsed value (UTC, microseconds): no text of the sender's
    survives, only the instant."""

    def rebuilt(self, value):
        if not isinstance(value, str):
            return MARKER
        try:
            parsed = storable_utc(datetime.fromisoformat(value))
        except ValueError:
            return MARKER
        if parsed is None:
            return MARKER
        return parsed.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class OneOf(Rule):
    """A value of a closed set (an enum the provider documents)."""

    values: frozenset

    def rebuilt(self, value):
        if isinstance(value, str | int) and not isinstance(value, bool) and value in self.values:
            return value
        return MARKER


@dataclass(frozen=True)
class Number(Rule):
    """A whole number within bounds (a status code)."""

    minimum: int
    maximum: int

    def rebuilt(self, value):
        if isinstance(value, int) and not isinstance(value, bool) and self.minimum <= value <= self.maximum:
            return value
        return MARKER


@dataclass(frozen=True)
class Boolean(Rule):
    def rebuilt(self, value):
        return value if isinstance(value, bool) else MARKER


@dataclass(frozen=True)
class Personal(Rule):
    """A field that describes the person, or free-form data (``custom_fields``, ``changes``): its key is
    declared, so it is kept; its value, keys and all, never is."""

    def rebuilt(self, value):
        return MARKER


Schema = dict[str, "Rule | Schema"]


def rebuild(value: Any, schema: Schema) -> Any:
    """``value`` (an object) rebuilt from ``schema``: declared keys only, each value by its rule; a null
    stays null (it says nothing). Not an object: ``MARKER``."""
    if not isinstance(value, dict):
        return MARKER
    rebuilt = {}
    for key, item in value.items():
        rule = schema.get(key) if isinstance(key, str) else None
        if rule is None:
            continue
        if item is None:
            rebuilt[key] = None
        elif isinstance(rule, dict):
            rebuilt[key] = rebuild(item, rule)
        else:
            rebuilt[key] = rule.rebuilt(item)
    return rebuilt


# --- headers ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaType(Rule):
    """A ``Content-Type`` from a closed set, compared without case or spaces."""

    values: frozenset

    def rebuilt(self, value):
        if not isinstance(value, str):
            return MARKER
        normalized = value.replace(" ", "").lower()
        return normalized if normalized in self.values else MARKER


@dataclass(frozen=True)
class Digits(Rule):
    """A header holding a whole number (``Content-Length``, a signed Unix timestamp)."""

    max_length: int

    def rebuilt(self, value):
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= self.max_length:
            return value
        return MARKER


JSON_MEDIA_TYPES = frozenset({"application/json", "application/json;charset=utf-8", "text/json"})
# Every provider's stored headers that survive an erasure (``User-Agent`` never does: free text).
COMMON_SURVIVING_HEADERS: Schema = {
    "Content-Type": MediaType(JSON_MEDIA_TYPES),
    "Content-Length": Digits(12),
    "X-Request-Id": Id(),
}


def rebuilt_headers(headers: Any, schema: Schema) -> dict[str, str]:
    """The stored headers an erasure keeps: the declared ones whose value passes (a failing one goes)."""
    if not isinstance(headers, dict):
        return {}
    kept = {}
    for name, value in headers.items():
        rule = schema.get(name)
        if isinstance(rule, Rule) and (rebuilt := rule.rebuilt(value)) != MARKER:
            kept[name] = rebuilt
    return kept


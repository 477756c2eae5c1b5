"""Turning provider values into the shapes our contact fields hold (E.164 phones, clean lists).

A value that cannot be stored in its field (wrong type, longer than the column, a NUL character, which
PostgreSQL refuses in text and JSON, a number out of the column's range) raises ``SkippedValue``: the
event skips that field, names it, and applies the rest.
"""

import math
from datetime import datetime
from functools import cache
from typing import Any

import phonenumbers
from django.apps import apps
from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations

from config.text_columns import text_column_problem
from config.timestamps import storable_utc
from webhooks.events import ProcessingError


class SkippedValue(ProcessingError):
    """A value its contact field cannot hold. The message names the field, never the value."""


def normalize_phone(raw: Any) -> str:
    """E.164 when phonenumbers recognises the number; the trimmed input otherwise (never lost)."""
    if raw is None:
        return ""
    if not isinstance(raw, str | int):
        raise SkippedValue("phone must be a string")
    text = str(raw).strip()
    if not text:
        return ""
    number = possible_phone_number(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else text


def possible_phone_number(text: str) -> phonenumbers.PhoneNumber | None:
    """The number ``text`` may be (read in ``PHONE_DEFAULT_REGION`` when it has no country code), or None.

    A number typed with the ``00`` international prefix ("0055 47 99123-4567") that is no valid number of
    the default region is read as ``+`` and the rest: read in the region, Brazil's ``0`` + carrier-code
    dialling makes it another country's number, and then no usual spelling of it would find the record."""
    region = settings.PHONE_DEFAULT_REGION
    number = _parsed(text, region)
    if text.lstrip().startswith("00") and not (number and phonenumbers.is_valid_number_for_region(number, region)):
        number = _parsed("+" + text.lstrip()[2:], None) or number
    return number if number and phonenumbers.is_possible_number(number) else None


def _parsed(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def normalize_email(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise SkippedValue("email must be a string")
    return raw.strip()


def _text(name: str):
    def convert(raw: Any) -> str:
        if raw is None:
            return ""
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise SkippedValue(f"{name} must be a string")
        return str(raw).strip()

    return convert


def _tags(raw: Any) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise SkippedValue("tags must be a list of strings")
    return raw


def _custom_fields(raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SkippedValue("custom_fields must be an object")
    return raw


def _optional_int(name: str):
    def convert(raw: Any) -> int | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SkippedValue(f"{name} must be a whole number")
        return raw

    return convert


def _optional_bool(name: str):
    def convert(raw: Any) -> bool | None:
        if raw is not None and not isinstance(raw, bool):
            raise SkippedValue(f"{name} must be true, false or null")
        return raw

    return convert


def _optional_datetime(name: str):
    def convert(raw: Any) -> datetime | None:
        if raw is None:
            return None
        if isinstance(raw, datetime):
            return _within_range(raw, name)
        if not isinstance(raw, str):
            raise SkippedValue(f"{name} must be an ISO-8601 timestamp")
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise SkippedValue(f"{name} must be an ISO-8601 timestamp") from None
        return _within_range(parsed, name)

    return convert


def _within_range(value: datetime, name: str) -> datetime:
    storable = storable_utc(value)
    if storable is None:
        raise SkippedValue(f"{name} is out of range")
    return storable


FIELD_NORMALIZERS = {
    "name": _text("name"),
    "phone": normalize_phone,
    "email": normalize_email,
    "avatar_url": _text("avatar_url"),
    "source": _text("source"),
    "tags": _tags,
    "custom_fields": _custom_fields,
    "assigned_to": _text("assigned_to"),
    "status_id": _optional_int("status_id"),
    "status": _text("status"),
    "sub_group_id": _text("sub_group_id"),
    "can_sms": _optional_bool("can_sms"),
    "can_email": _optional_bool("can_email"),
    "can_call": _optional_bool("can_call"),
    "last_sms_in_at": _optional_datetime("last_sms_in_at"),
    "last_sms_out_at": _optional_datetime("last_sms_out_at"),
    "last_call_at": _optional_datetime("last_call_at"),
    "remote_created_at": _optional_datetime("remote_created_at"),
}


def normalize_field(name: str, raw: Any) -> Any:
    value = FIELD_NORMALIZERS[name](raw)
    check_storable(name, value)
    return value


def check_storable(name: str, value: Any) -> None:
    """Raise ``SkippedValue`` unless the column of ``name`` stores ``value`` on every database we run on."""
    field = _contact_field(name)
    if isinstance(value, str):
        if (problem := text_column_problem(value, max_length=field.max_length)) is not None:
            raise SkippedValue(f"{name} {problem}")
    elif isinstance(value, int) and not isinstance(value, bool):
        low, high = integer_range(field.get_internal_type())
        if not low <= value <= high:
            raise SkippedValue(f"{name} is out of range")
    elif isinstance(value, dict | list) and not _json_storable(value):
        raise SkippedValue(f"{name} contains a NUL character or a non-finite number")


@cache
def _contact_field(name: str):
    # Through the app registry, not an import: the model imports this module (through contacts.search).
    return apps.get_model("contacts", "Contact")._meta.get_field(name)


@cache
def integer_range(internal_type: str) -> tuple[int, int]:
    # PostgreSQL's ranges (SQLite would take more): what production stores.
    return BaseDatabaseOperations.integer_field_ranges[internal_type]


def _json_storable(value: Any) -> bool:
    """PostgreSQL's jsonb refuses NUL in keys and strings; JSON has no infinity (iterative: no depth limit)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True

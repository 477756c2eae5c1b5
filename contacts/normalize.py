"""Turning provider values into the shapes our contact fields hold (E.164 phones, clean lists)."""

from datetime import datetime
from typing import Any

import phonenumbers
from django.conf import settings

from config.timestamps import storable_utc
from webhooks.events import ProcessingError


def normalize_phone(raw: Any) -> str:
    """E.164 when phonenumbers recognises the number; the trimmed input otherwise (never lost)."""
    if raw is None:
        return ""
    if not isinstance(raw, str | int):
        raise ProcessingError("phone must be a string")
    text = str(raw).strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ProcessingError("email must be a string")
    return raw.strip()


def _text(name: str):
    def convert(raw: Any) -> str:
        if raw is None:
            return ""
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise ProcessingError(f"{name} must be a string")
        return str(raw).strip()

    return convert


def _tags(raw: Any) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw):
        raise ProcessingError("tags must be a list of strings")
    return raw


def _custom_fields(raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProcessingError("custom_fields must be an object")
    return raw


def _optional_int(name: str):
    def convert(raw: Any) -> int | None:
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ProcessingError(f"{name} must be a whole number")
        return raw

    return convert


def _optional_bool(name: str):
    def convert(raw: Any) -> bool | None:
        if raw is not None and not isinstance(raw, bool):
            raise ProcessingError(f"{name} must be true, false or null")
        return raw

    return convert


def _optional_datetime(name: str):
    def convert(raw: Any) -> datetime | None:
        if raw is None:
            return None
        if isinstance(raw, datetime):
            return _within_range(raw, name)
        if not isinstance(raw, str):
            raise ProcessingError(f"{name} must be an ISO-8601 timestamp")
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise ProcessingError(f"{name} must be an ISO-8601 timestamp") from None
        return _within_range(parsed, name)

    return convert


def _within_range(value: datetime, name: str) -> datetime:
    storable = storable_utc(value)
    if storable is None:
        raise ProcessingError(f"{name} is out of range")
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
    return FIELD_NORMALIZERS[name](raw)

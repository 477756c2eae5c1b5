"""The printable answer to an access request: the export document (``contacts.requests.subject_export``) as
something a person reads, in the reader's language. Field names become their labels, lists become lists,
objects and payloads become key/value tables, times stay datetimes for the template to show in local time.
Nothing here is a Python repr."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext

from contacts.models import Contact


def node(value: Any) -> dict:
    """One value as a node the report's template draws: ``table`` (rows of label and node), ``list`` (items),
    ``time`` (a datetime), ``empty`` or ``text``."""
    if isinstance(value, dict):
        return {"kind": "table", "rows": [(str(key), node(item)) for key, item in value.items()]} if value else empty()
    if isinstance(value, list | tuple):
        return {"kind": "list", "items": [node(item) for item in value]} if value else empty()
    if isinstance(value, datetime):
        return {"kind": "time", "value": value}
    if value is None or value == "":
        return empty()
    if isinstance(value, bool):
        return {"kind": "text", "value": gettext("yes") if value else gettext("no")}
    return {"kind": "text", "value": str(value)}


def empty() -> dict:
    return {"kind": "empty"}


def field_label(name: str) -> str:
    return str(Contact._meta.get_field(name).verbose_name)


def labelled(values: dict) -> list[tuple[str, dict]]:
    """A contact's fields as (its label in the reader's language, node) rows."""
    return [(field_label(name), node(value)) for name, value in values.items()]


def printable_report(document: dict) -> dict:
    """What the report's template needs from an export document."""
    return {
        **document,
        "field_rows": labelled(document["fields"]),
        "note_rows": labelled(document["notes"]),
        "events": [{**event, "payload_node": node(event["payload"])} for event in document["events"]],
    }

"""How the contact admin's pages show values: phones as people write them, tags and custom fields, the
webhook timeline, provider keys. HTML built with ``format_html`` only (every value escaped)."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from config.values.timestamps import display_time
from contacts.models import Contact
from contacts.normalize import possible_phone_number


def provider_key(obj):
    """A contact's (or record's) provider key in one narrow cell: provider · account, then the contact id."""
    return format_html(
        '<span class="crm-key">{} · {}<br><span class="crm-muted">{}</span></span>',
        obj.provider,
        obj.account_id,
        obj.external_id,
    )


def readable_phone(e164: str) -> str:
    """A phone as people write it: national format for numbers of ``PHONE_DEFAULT_REGION`` ("(47) 99123-4567"),
    international for others; as stored when it is not a readable number."""
    number = possible_phone_number(e164)
    if number is None:
        return e164
    same_region = phonenumbers.region_code_for_number(number) == settings.PHONE_DEFAULT_REGION
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_region else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def phone_for_spreadsheet(e164: str) -> str:
    """A phone as a spreadsheet opens it as text, with no guard to see: as people write it, the country code
    of a foreign number in parentheses ("(47) 99123-4567", "(+1) 650-253-0000"). A leading "+" would be read
    as a formula (and get the formula guard, which shows)."""
    readable = readable_phone(e164) if e164 else e164
    if readable != e164 and readable.startswith("+"):
        code, _space, rest = readable.partition(" ")
        return f"({code}) {rest}"
    return readable


def phone_html(phone: str):
    if not phone:
        return "—"
    readable = readable_phone(phone)
    if readable == phone:
        return phone
    return format_html('<span class="crm-phone" title="{}">{}</span>', phone, readable)


def tags_html(tags):
    if not tags:
        return "—"
    tags = tags if isinstance(tags, list) else [tags]
    items = format_html_join("", '<span class="crm-tag">{}</span>', ((tag,) for tag in tags))
    return format_html('<div class="crm-tags">{}</div>', items)


def custom_fields_html(custom_fields):
    if not custom_fields:
        return "—"
    if not isinstance(custom_fields, dict):
        return str(custom_fields)
    rows = format_html_join(
        "",
        "<tr><th>{}</th><td>{}</td></tr>",
        ((key, _readable(value)) for key, value in sorted(custom_fields.items())),
    )
    return format_html('<table class="crm-kv"><tbody>{}</tbody></table>', rows)


def timeline_html(entries):
    """The contact's webhook events (``TimelineEntry`` rows, newest first), one table row each."""
    if not entries:
        return gettext("No webhook events stored for this contact.")
    received = gettext("received")
    rows = format_html_join(
        "",
        '<tr class="crm-timeline-entry"><td>{}<br><span class="crm-muted">{} {}</span></td>'
        '<td><a href="{}">{}</a></td><td><span class="crm-badge crm-status-{}">{}</span>'
        '<div class="crm-reason">{}</div></td><td>{}</td><td class="crm-fields">{}</td></tr>',
        (
            (
                display_time(entry.occurred_at or entry.received_at),
                received,
                display_time(entry.received_at),
                entry.admin_url,
                entry.event_type,
                entry.status,
                entry.status_label or entry.status,
                entry.reason_label or entry.status_reason,
                _actor(entry),
                _changed(entry),
            )
            for entry in entries
        ),
    )
    return format_html(
        '<table class="crm-timeline" id="contact-timeline"><thead><tr><th>{}</th><th>{}</th>'
        "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
        gettext("When"),
        gettext("Event"),
        gettext("Status"),
        gettext("Who"),
        gettext("What changed"),
        rows,
    )


def _readable(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if value is None or value == "":
        return "—"
    return str(value)


def _actor(entry) -> str:
    if not (entry.actor_type or entry.actor_id):
        return "—"
    return " ".join(part for part in (entry.actor_type_label or entry.actor_type, entry.actor_id) if part)


def field_label(name: str) -> str:
    """A contact field's name as staff read it ("custom_fields" → "custom fields", "campos personalizados")."""
    try:
        return str(Contact._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _field_value(name: str, value):
    """A changed value as the page shows it: a time in local time like every other on the page."""
    try:
        field = Contact._meta.get_field(name)
    except FieldDoesNotExist:
        return value
    if isinstance(field, models.DateTimeField) and value and (moment := parse_datetime(value)) is not None:
        return display_time(moment)
    return value


def _changed(entry):
    if not entry.changed_fields and not entry.drift:
        return "—"
    if entry.values:
        changed = format_html_join(
            "",
            '<div class="crm-change"><code>{}</code> {}</div>',
            (
                (field_label(name), _old_to_new(_field_value(name, before), _field_value(name, after)))
                for name, before, after in entry.values
            ),
        )
    else:
        changed = format_html_join(" ", "<code>{}</code>", ((field_label(name),) for name in entry.changed_fields))
    if not entry.drift:
        return changed
    drift = format_html_join(" ", "<code>{}</code>", ((field_label(name),) for name in entry.drift))
    return format_html('{} <span class="crm-muted">{}: {}</span>', changed, gettext("drift"), drift)


def _old_to_new(before, after):
    if before is None:
        return format_html('<span class="crm-new">{}</span>', after)
    return format_html('<span class="crm-old">{}</span> → <span class="crm-new">{}</span>', before, after)

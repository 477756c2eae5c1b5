"""config/db/bulk.py writes many rows in one statement exactly as ``save()`` writes each: every column type a
batch writes, on SQLite (the ORM's own bulk_update) and on PostgreSQL (one UPDATE … FROM unnest)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.db.bulk import bulk_update_by_pk
from contacts.models import Contact
from contacts.services.sync import WRITTEN_FIELDS
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import WebhookEvent
from webhooks.processing import OUTCOME_FIELDS

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 4, 19, 14, 30, 5, 123456, tzinfo=UTC)


def columns(instance, *, without=("updated_at",)):
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
        if field.attname not in without
    }


CHANGES = [
    {"name": "Ana Costa", "tags": ["vip", "ção"], "custom_fields": {"plano": "anual"}, "last_call_at": WHEN},
    {"can_sms": None, "status_id": 3, "status": "Members", "field_versions": {"name": ["2026", "evt_1"]}},
    {"phone": "", "remote_updated_at": None, "needs_refresh": True, "refresh_attempts": 2, "notes": "nota"},
]


# Several rows are written by one UPDATE … FROM unnest (PostgreSQL), one row by a plain UPDATE by its key.
@pytest.mark.parametrize("together", [True, False], ids=["one statement for all", "one row at a time"])
def test_contacts_written_in_one_statement_read_back_as_save_would_have_written_them(together):
    by_bulk = [ContactFactory(name="Ana"), ContactFactory(name="Bia", can_sms=True), ContactFactory(name="Caio")]
    by_save = [ContactFactory(name="Ana"), ContactFactory(name="Bia", can_sms=True), ContactFactory(name="Caio")]
    changes = CHANGES
    for bulk, save, change in zip(by_bulk, by_save, changes, strict=True):
        for name, value in change.items():
            setattr(bulk, name, value)
            setattr(save, name, value)
        save.save()
    before = Contact.objects.get(pk=by_bulk[0].pk).updated_at

    with CaptureQueriesContext(connection) as captured:
        for batch in [by_bulk] if together else [[contact] for contact in by_bulk]:
            bulk_update_by_pk(batch, WRITTEN_FIELDS)

    assert len(captured.captured_queries) == (1 if together else 3)
    for bulk, save in zip(by_bulk, by_save, strict=True):
        stored, expected = Contact.objects.get(pk=bulk.pk), Contact.objects.get(pk=save.pk)
        # Apart from what differs between the two factories' contacts (ids, phone, email, and the search text
        # made from them).
        different = ("id", "external_id", "phone", "email", "search_text", "created_at", "updated_at")
        assert columns(stored, without=different) == columns(expected, without=different)
    # pre_save-computed columns are recomputed, as save() would.
    assert Contact.objects.get(pk=by_bulk[0].pk).search_text.startswith("ana costa")
    assert Contact.objects.get(pk=by_bulk[0].pk).updated_at > before  # auto_now moves, as with save()


def test_only_the_named_columns_are_written():
    contact = ContactFactory(name="Ana", notes="kept")
    contact.name, contact.notes = "Ana Costa", "not written"

    bulk_update_by_pk([contact], ["name"])

    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.name, stored.notes) == ("Ana Costa", "kept")


def test_event_outcomes_and_binary_bodies_round_trip():
    events = [WebhookEventFactory(), WebhookEventFactory()]
    events[0].status, events[0].changed_fields, events[0].processed_at = "processed", ["name"], WHEN
    events[1].status, events[1].drift, events[1].next_attempt_at, events[1].attempts = "received", ["tags"], WHEN, 3
    events[1].body = b'{"a":"\xc3\xa7"}'

    bulk_update_by_pk(events, OUTCOME_FIELDS)
    bulk_update_by_pk([events[1]], ["body"])

    first, second = WebhookEvent.objects.get(pk=events[0].pk), WebhookEvent.objects.get(pk=events[1].pk)
    assert (first.status, first.changed_fields, first.processed_at) == ("processed", ["name"], WHEN)
    assert (second.status, second.drift, second.next_attempt_at, second.attempts) == ("received", ["tags"], WHEN, 3)
    assert bytes(second.body) == b'{"a":"\xc3\xa7"}'


def test_nothing_to_write_sends_nothing():
    with CaptureQueriesContext(connection) as captured:
        bulk_update_by_pk([], ["name"])
    assert captured.captured_queries == []


@pytest.mark.postgres
def test_a_prepared_statement_is_logged_with_its_text_like_any_other():
    """psycopg keeps no text of a statement it executes prepared: the debug log (tests' query captures,
    DEBUG's SQL log) must still show it, not None."""
    from config.db.bulk import binary_parameters_cursor

    with CaptureQueriesContext(connection) as captured:
        for n in range(8):  # past the threshold (5) at which psycopg prepares it
            with binary_parameters_cursor() as cursor:
                cursor.execute("SELECT %s::int + 1", [n])
                assert cursor.fetchone() == (n + 1,)

    assert [query["sql"] for query in captured.captured_queries] == ["SELECT %s::int + 1"] * 8

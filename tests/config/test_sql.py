"""config/sql.py reads and writes rows exactly as the ORM does: every column type the delivery path uses,
both ways, on SQLite and on PostgreSQL."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.sql import get_row, insert_row, update_row
from contacts.models import Contact
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 4, 19, 14, 30, 5, 123456, tzinfo=UTC)


def orm_values(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_get_row_gives_what_the_orm_gives_for_every_column_type():
    contact = ContactFactory(
        tags=["vip", "ção"],
        custom_fields={"plano": "anual", "n": 3},
        status_id=2,
        can_sms=True,
        can_email=None,
        last_call_at=WHEN,
        field_versions={"name": ["2026-04-19T14:30:05.123456Z", "evt_1"]},
    )
    event = WebhookEventFactory(body=b'{"a":"\xc3\xa7"}', headers={"User-Agent": "x"}, remote_addr="10.0.0.1")

    read_contact = get_row(
        Contact, provider=contact.provider, account_id=contact.account_id, external_id=contact.external_id
    )
    read_event = get_row(WebhookEvent, pk=event.pk)

    assert orm_values(read_contact) == orm_values(Contact.objects.get(pk=contact.pk))
    assert read_contact.last_call_at == WHEN and read_contact.tags == ["vip", "ção"]
    expected_event = orm_values(WebhookEvent.objects.get(pk=event.pk))
    actual_event = orm_values(read_event)
    assert bytes(actual_event.pop("body")) == bytes(expected_event.pop("body")) == b'{"a":"\xc3\xa7"}'
    assert actual_event == expected_event
    assert read_event._state.adding is False and read_event._state.db == "default"


def test_get_row_of_a_missing_key_is_none():
    assert get_row(WebhookEvent, pk=987654) is None
    assert get_row(Contact, provider="timely", account_id="ws", external_id="nobody") is None


def test_get_row_for_update_locks_the_row_where_the_database_can():
    contact = ContactFactory()
    with CaptureQueriesContext(connection) as captured:
        get_row(Contact, for_update=True, pk=contact.pk)
    locks = captured.captured_queries[-1]["sql"].endswith("FOR UPDATE")
    assert locks is connection.features.has_select_for_update


def test_update_row_writes_the_named_fields_and_refreshes_auto_now():
    contact = ContactFactory(name="Ana", notes="kept")
    before = Contact.objects.get(pk=contact.pk).updated_at
    contact.name, contact.notes, contact.tags = "Ana Costa", "not written", ["novo"]

    update_row(contact, ["name", "tags", "updated_at"])

    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.name, stored.notes, stored.tags) == ("Ana Costa", "kept", ["novo"])
    assert stored.updated_at > before


def test_update_row_without_names_writes_every_column_like_save():
    contact = ContactFactory(name="Ana")
    contact.name, contact.custom_fields, contact.last_sms_in_at, contact.can_call = "Bruno", {"k": [1]}, WHEN, False

    update_row(contact, None)

    stored = Contact.objects.get(pk=contact.pk)
    expected = orm_values(contact)
    assert orm_values(stored) == expected


def test_insert_row_stores_what_save_stores_and_sends_the_save_signals():
    from django.db.models.signals import post_save, pre_save

    seen = []

    def record(signal_name):
        def receiver(sender, instance, **kwargs):
            seen.append((signal_name, sender, instance.pk, kwargs.get("created")))

        return receiver

    on_pre, on_post = record("pre_save"), record("post_save")
    pre_save.connect(on_pre, sender=Contact)
    post_save.connect(on_post, sender=Contact)
    try:
        template = ContactFactory.build(tags=["vip"], custom_fields={"k": 1}, last_call_at=WHEN, can_email=None)
        values = {field.attname: getattr(template, field.attname) for field in Contact._meta.concrete_fields}
        saved = Contact(**{**values, "external_id": "by-save"})
        inserted = Contact(**{**values, "external_id": "by-insert-row"})
        saved.save(force_insert=True)
        seen.clear()

        insert_row(inserted)
    finally:
        pre_save.disconnect(on_pre, sender=Contact)
        post_save.disconnect(on_post, sender=Contact)

    assert inserted.pk is not None and inserted._state.adding is False
    assert seen == [("pre_save", Contact, None, None), ("post_save", Contact, inserted.pk, True)]
    by_save, by_insert = orm_values(Contact.objects.get(pk=saved.pk)), orm_values(Contact.objects.get(pk=inserted.pk))
    # search_text is made from the external id too, so it differs as that does.
    assert by_save.pop("search_text").replace("by-save", "by-insert-row") == by_insert.pop("search_text")
    for differs in ("id", "external_id", "created_at", "updated_at"):
        by_save.pop(differs), by_insert.pop(differs)
    assert by_insert == by_save


def test_insert_row_keeps_a_primary_key_set_in_python():
    from django_tasks_db.models import DBTaskResult, get_date_max

    row = DBTaskResult(args_kwargs={"args": [1], "kwargs": {}}, task_path="x.y", backend_name="default", run_after=None)
    chosen = row.pk

    insert_row(row)  # run_after None: django-tasks-db's own pre_save receiver fills it in

    stored = DBTaskResult.objects.get(pk=chosen)
    assert stored.run_after == get_date_max() and stored.enqueued_at is not None

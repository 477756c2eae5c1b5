"""config/db/compiled.py and config/db/insert.py stand in for the ORM on an inline delivery's contact: the
contact read by the SQL compiled once is the instance the ORM's query builds, and a contact inserted by
the statement built once is the row ``bulk_create`` writes. Every column type a contact holds, both
databases (the second pass runs this file on PostgreSQL)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone as django_timezone

from config.db.compiled import rows_by_fields
from config.db.insert import insert_new_instance
from contacts.models import Contact
from contacts.services.sync import SUBJECT_FIELDS
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 4, 19, 14, 30, 5, 123456, tzinfo=UTC)
# Every kind of value a contact's columns hold: text with accents, JSON lists and nested objects, times
# (one given in another zone), booleans true, false and unknown, integers, an empty and a null value.
VALUES = {
    "name": "João Ção d'Ávila",
    "phone": "+5547991234567",
    "email": "joao@exemplo.com.br",
    "avatar_url": "https://exemplo.com.br/a.png?x=1&y=%20",
    "tags": ["vip", "ção", 3, None],
    "custom_fields": {"plano": {"tipo": "anual", "valor": 12.5, "ativo": True}, "vazio": []},
    "assigned_to": "",
    "status_id": 7,
    "status": "Members",
    "can_sms": True,
    "can_email": False,
    "can_call": None,
    "last_sms_in_at": WHEN,
    "last_call_at": WHEN.astimezone(timezone(timedelta(hours=-3))),
    "remote_updated_at": WHEN + timedelta(microseconds=1),
    "notes": "line one\nline two %s %(x)s",
    "field_versions": {"name": ["2026-04-19T14:30:05.123456Z", "evt_1"], "_refresh": ["2026", "evt_2"]},
    "needs_refresh": True,
    "refresh_attempts": 2,
}


def columns(contact: Contact, *, without=()) -> dict:
    return {
        field.attname: getattr(contact, field.attname)
        for field in Contact._meta.concrete_fields
        if field.attname not in without
    }


def assert_same_values(got: dict, expected: dict) -> None:
    assert got == expected
    for name, value in expected.items():  # equal and of the same kind (True is not 1, aware stays aware)
        assert type(got[name]) is type(value), name
        if isinstance(value, datetime):
            assert got[name].utcoffset() == value.utcoffset(), name


def subject(contact: Contact) -> tuple:
    return tuple(getattr(contact, name) for name in SUBJECT_FIELDS)


@pytest.mark.parametrize("for_update", [True, False], ids=["locked", "plain"])
@pytest.mark.parametrize("values", [VALUES, {}], ids=["every kind of value", "defaults"])
def test_the_contact_read_by_the_compiled_sql_is_the_orms(for_update, values):
    stored = ContactFactory(**values)
    ContactFactory(provider=stored.provider, account_id=stored.account_id)  # a neighbour, not read

    with transaction.atomic():
        (read,) = rows_by_fields(Contact, SUBJECT_FIELDS, subject(stored), for_update=for_update)
    by_orm = Contact.objects.get(pk=stored.pk)

    assert_same_values(columns(read), columns(by_orm))
    assert read.search_text.startswith("joao cao d'avila" if values else stored.search_text)
    assert (read._state.adding, read._state.db) == (by_orm._state.adding, by_orm._state.db) == (False, "default")
    assert read.get_deferred_fields() == set()


def test_no_matching_row_reads_nothing():
    ContactFactory(external_id="cont_1")
    assert rows_by_fields(Contact, SUBJECT_FIELDS, ("timely", "ws_abc123", "cont_2")) == []


def test_a_tombstone_is_read_as_the_orm_reads_it():
    stored = ContactFactory(erased=True, field_versions={"_deleted": ["2026", "evt_9"]})
    (read,) = rows_by_fields(Contact, SUBJECT_FIELDS, subject(stored), for_update=True)
    assert_same_values(columns(read), columns(Contact.objects.get(pk=stored.pk)))
    assert read.is_erased


@pytest.mark.parametrize("values", [VALUES, {}], ids=["every kind of value", "defaults"])
def test_a_contact_inserted_by_the_built_statement_is_the_row_bulk_create_writes(values):
    by_statement = Contact(provider="fpt", account_id="loc_1", external_id="c_1", **values)
    by_orm = Contact(provider="fpt", account_id="loc_1", external_id="c_2", **values)
    before = django_timezone.now()

    insert_new_instance(by_statement)
    Contact.objects.bulk_create([by_orm])

    after = django_timezone.now()
    assert by_statement.pk is not None and by_statement.pk != by_orm.pk
    assert (by_statement._state.adding, by_statement._state.db) == (by_orm._state.adding, by_orm._state.db)
    stored, expected = Contact.objects.get(pk=by_statement.pk), Contact.objects.get(pk=by_orm.pk)
    different = ("id", "external_id", "search_text", "created_at", "updated_at")
    assert_same_values(columns(stored, without=different), columns(expected, without=different))
    assert stored.search_text == expected.search_text.replace("c_2", "c_1")
    # The instance holds what was written (pre_save's values: the times, the search text), as bulk_create's.
    assert columns(by_statement) == columns(stored)
    assert columns(by_orm) == columns(expected)
    # auto_now_add and auto_now moved, as with bulk_create and save().
    assert before <= stored.created_at <= after and before <= stored.updated_at <= after


def test_a_conflicting_contact_raises_as_bulk_create_does():
    existing = ContactFactory()
    twin = Contact(provider=existing.provider, account_id=existing.account_id, external_id=existing.external_id)

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_new_instance(twin)

    assert Contact.objects.filter(external_id=existing.external_id).count() == 1


def test_a_contact_with_a_key_is_not_inserted_as_new():
    with pytest.raises(ValueError, match="no key yet"):
        insert_new_instance(Contact(pk=12345, provider="fpt", account_id="loc_1", external_id="c_1"))
    assert not Contact.objects.filter(pk=12345).exists()

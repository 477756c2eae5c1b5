"""A tombstone is read-only: in admin (no editable field, no save), in the services and in the database
(any write path, bulk updates included). A newer state fetched after an FPT reactivation stays the one way
back."""

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from contacts.models import PERSONAL_FIELDS, Contact, TombstoneIsReadOnly
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 4, 19, 16, 0, tzinfo=UTC)
A_VALUE_FOR = {
    "name": "Ana Costa", "phone": "+5547991234567", "email": "ana@exemplo.com.br",
    "avatar_url": "https://cdn.exemplo.com.br/a.png", "source": "whatsapp", "tags": ["vip"],
    "custom_fields": {"plano": "pro"}, "assigned_to": "usr_1", "status_id": 3, "status": "Members",
    "sub_group_id": "5521", "can_sms": False, "can_email": True, "can_call": False, "last_sms_in_at": WHEN,
    "last_sms_out_at": WHEN, "last_call_at": WHEN, "remote_created_at": WHEN, "remote_updated_at": WHEN,
    "notes": "Prefere contato à tarde",
}  # fmt: skip


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def change_url(contact):
    return f"/admin/contacts/contact/{contact.pk}/change/"


def test_every_personal_field_has_a_value_to_try():
    assert sorted(A_VALUE_FOR) == sorted(PERSONAL_FIELDS)


def test_an_erased_contacts_notes_cannot_be_edited_or_saved_in_admin(staff_client):
    tombstone = ContactFactory(erased=True)
    response = staff_client.get(change_url(tombstone))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Erased contact #{tombstone.pk}" in page
    # It reads as a tombstone: no notes section inviting edits, a line saying nothing can change.
    assert "crm-local-fields" not in page and "edit freely" not in page
    assert "This contact was erased: only its provider ids and the record of the erasure are kept." in page
    assert 'name="notes"' not in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page

    response = staff_client.post(change_url(tombstone), {"notes": A_VALUE_FOR["notes"], "_save": "Save"})
    assert response.status_code == 403
    tombstone.refresh_from_db()
    assert tombstone.notes == ""


def test_a_living_contacts_notes_stay_editable_in_admin(staff_client):
    contact = ContactFactory()
    assert 'name="notes"' in staff_client.get(change_url(contact)).content.decode()
    response = staff_client.post(change_url(contact), {"notes": "Retornar em maio", "_save": "Save"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.notes == "Retornar em maio"


@pytest.mark.parametrize("field", PERSONAL_FIELDS)
def test_saving_any_personal_value_onto_a_tombstone_raises_and_names_the_field(field):
    tombstone = ContactFactory(erased=True)
    setattr(tombstone, field, A_VALUE_FOR[field])
    with pytest.raises(TombstoneIsReadOnly, match=field):
        tombstone.save()
    assert Contact.objects.get(pk=tombstone.pk).personal_fields_held() == []


@pytest.mark.parametrize("field", PERSONAL_FIELDS)
def test_the_database_refuses_a_bulk_update_that_puts_a_value_back_onto_a_tombstone(field):
    tombstone = ContactFactory(erased=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=tombstone.pk).update(**{field: A_VALUE_FOR[field]})
    assert Contact.objects.get(pk=tombstone.pk).personal_fields_held() == []


def test_a_tombstone_keeps_its_bookkeeping_writable():
    tombstone = ContactFactory(erased=True)
    Contact.objects.filter(pk=tombstone.pk).update(needs_refresh=True, refresh_attempts=2)
    tombstone.refresh_from_db()
    tombstone.needs_refresh = False
    tombstone.save()
    assert Contact.objects.get(pk=tombstone.pk).needs_refresh is False


def test_marking_a_contact_erased_while_it_still_holds_data_is_refused():
    contact = ContactFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(erased_at=WHEN)
    assert Contact.objects.get(pk=contact.pk).erased_at is None


def test_the_migration_empties_values_put_back_on_tombstones_before_adding_the_constraint():
    migration = importlib.import_module("contacts.migrations.0009_tombstone_holds_no_personal_data")
    tombstone, living = ContactFactory(erased=True), ContactFactory(notes="Retornar em maio")
    with connection.cursor() as cursor:
        # As the database was before the constraint: notes typed onto a tombstone in admin.
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE contacts_contact DROP CONSTRAINT contact_tombstone_holds_no_personal_data")
        else:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            Contact.objects.filter(pk=tombstone.pk).update(notes=A_VALUE_FOR["notes"], tags=["vip"])
            migration.empty_erased_contacts(apps, schema_editor=None)
        finally:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
    assert Contact.objects.get(pk=tombstone.pk).personal_fields_held() == []
    assert Contact.objects.get(pk=living.pk).notes == "Retornar em maio"

from datetime import UTC, datetime

import pytest
from django.db import transaction

from config.sql import insert_row_unless_exists
from contacts import services
from contacts.models import Contact
from tests.factories import ContactFactory
from webhooks.events import ContactEvent, ContactEventKind, OutcomeStatus

pytestmark = pytest.mark.django_db(transaction=True)


def created_event(**fields):
    return ContactEvent(
        provider="timely",
        account_id="ws_abc123",
        external_id="cont_race",
        kind=ContactEventKind.CREATED,
        changed_at=datetime(2026, 4, 19, 14, 30, tzinfo=UTC),
        tiebreak="evt_race",
        fields=fields,
        complete=True,
    )


def test_contact_created_by_a_concurrent_delivery_is_applied_on_top_in_the_same_transaction(monkeypatch):
    """Between our lookup (nothing there) and our insert another delivery creates the contact: the insert
    yields without an error that would abort the transaction, and the event is applied to that row."""
    apply_fields = services._apply_fields

    def another_delivery_wins_the_insert(contact, event):
        if contact.pk is None and not Contact.objects.filter(external_id="cont_race").exists():
            ContactFactory(external_id="cont_race", name="", email="first@exemplo.com.br", field_versions={})
        return apply_fields(contact, event)

    monkeypatch.setattr(services, "_apply_fields", another_delivery_wins_the_insert)

    with transaction.atomic():
        outcome = services.apply_contact_event(event=created_event(name="Ana Costa"))
        # Still usable: nothing aborted the transaction.
        assert Contact.objects.count() == 1

    contact = Contact.objects.get()
    assert outcome.status == OutcomeStatus.PROCESSED
    assert contact.name == "Ana Costa"
    assert contact.email == "first@exemplo.com.br"


def test_inserting_a_contact_that_exists_leaves_the_stored_row_untouched():
    existing = ContactFactory(external_id="cont_race", name="Stored")

    with transaction.atomic():
        inserted = insert_row_unless_exists(
            Contact(provider="timely", account_id="ws_abc123", external_id="cont_race", name="Other")
        )

    assert inserted is False
    assert Contact.objects.get().name == "Stored" and Contact.objects.get().pk == existing.pk


def test_inserting_a_new_contact_gives_it_its_id():
    contact = Contact(provider="timely", account_id="ws_abc123", external_id="cont_new", name="Nova")

    with transaction.atomic():
        assert insert_row_unless_exists(contact) is True

    assert Contact.objects.get(pk=contact.pk).name == "Nova"
    assert contact._state.adding is False

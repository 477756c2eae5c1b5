"""``erase_contact``: the tombstone and the admin history it rewrites."""

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from contacts.models import PERSONAL_FIELDS, Contact, ErasureRecord
from contacts.services import AlreadyErased, erase_on_request
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def log(contact, *, message, action=CHANGE):
    return LogEntry.objects.create(
        user=UserFactory(), content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk),
        object_repr=str(contact), action_flag=action, change_message=message,
    )  # fmt: skip


def test_the_tombstone_keeps_only_ids_and_erasure_bookkeeping(erase):
    contact = ContactFactory(name="Ana Costa", tags=["vip"], custom_fields={"cpf": "1"}, notes="n", status="Lead",
                             can_sms=True, assigned_to="usr_9")  # fmt: skip
    erase(contact)
    tombstone = Contact.objects.get(pk=contact.pk)
    empty = {f.name: f.get_default() for f in Contact._meta.concrete_fields}
    assert {name: getattr(tombstone, name) for name in PERSONAL_FIELDS} == {
        name: empty[name] for name in PERSONAL_FIELDS
    }
    assert (tombstone.provider, tombstone.account_id, tombstone.external_id) == (
        "timely",
        "ws_abc123",
        contact.external_id,
    )
    assert tombstone.erased_at is not None and str(tombstone) == f"Erased contact #{contact.pk}"


def test_admin_history_naming_the_contact_is_rewritten_field_names_kept(erase):
    contact = ContactFactory(name="Ana Costa")
    other = ContactFactory(name="Bruno Lima")
    changed = log(contact, message=json.dumps([{"changed": {"fields": ["Notes"]}}]))
    added = log(contact, action=ADDITION, message=json.dumps([{"added": {"name": "note", "object": "Ana Costa"}}]))
    free_text = log(contact, message="Called Ana Costa at +5547991234567")
    untouched = log(other, message="Called Bruno Lima")
    erase(contact)
    for entry in (changed, added, free_text, untouched):
        entry.refresh_from_db()
    assert {changed.object_repr, added.object_repr, free_text.object_repr} == {f"Erased contact #{contact.pk}"}
    assert json.loads(changed.change_message) == [{"changed": {"fields": ["Notes"]}}]
    assert json.loads(added.change_message) == [{"added": {"name": "note", "object": "(erased)"}}]
    assert "Ana" not in free_text.change_message and "5547991234567" not in free_text.change_message
    assert (untouched.object_repr, untouched.change_message) == ("Bruno Lima", "Called Bruno Lima")


def test_a_request_for_a_contact_erased_meanwhile_appends_no_second_record(erase):
    contact = ContactFactory()
    stale_copy = Contact.objects.get(pk=contact.pk)  # what staff selected, before the provider's deletion
    erase(contact)
    with pytest.raises(AlreadyErased):
        erase_on_request(contact=stale_copy, requested_by="dpo", requested_by_type="admin", reference="DSR-5")
    assert ErasureRecord.objects.count() == 1

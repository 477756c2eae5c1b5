"""The Compliance group (a data migration): exactly what an auditor needs, and nothing else."""

import pytest
from django.contrib.auth.models import Group

from contacts.models import ErasureRecord
from contacts.permissions import COMPLIANCE_GROUP, COMPLIANCE_PERMISSIONS
from tests.factories import ContactFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


def test_the_group_holds_exactly_the_auditors_permissions():
    group = Group.objects.get(name=COMPLIANCE_GROUP)
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        ("contacts", "view_contact"),
        ("contacts", "erase_contact"),
        ("contacts", "view_erasurerecord"),
        ("contacts", "export_erasurerecord"),
        ("contacts", "view_erasurelogverification"),
        ("webhooks", "view_payloadpurge"),
        ("contacts", "view_contactaccess"),
        ("contacts", "view_datasubjectrequest"),
        ("contacts", "add_datasubjectrequest"),
        ("contacts", "change_datasubjectrequest"),
        ("contacts", "export_data_subject"),
        ("contacts", "view_datasubjectexport"),
        ("contacts", "view_downstreamsystem"),
        ("contacts", "add_downstreamsystem"),
        ("contacts", "change_downstreamsystem"),
        ("contacts", "delete_downstreamsystem"),
        ("contacts", "view_erasurepropagation"),
        ("contacts", "settle_erasurepropagation"),
    }
    assert set(COMPLIANCE_PERMISSIONS) == set(group.permissions.values_list("content_type__app_label", "codename"))


def test_an_auditor_sees_contacts_and_the_log_exports_it_and_erases(client, auditor, erase):
    contact = ContactFactory(name="Ana Costa")
    erase()
    assert client.get("/admin/contacts/contact/").status_code == 200
    assert client.get(f"/admin/contacts/contact/{contact.pk}/change/").status_code == 200
    assert client.get("/admin/contacts/erasurerecord/").status_code == 200
    assert client.get("/admin/contacts/erasurerecord/export/").status_code == 200
    assert client.get("/admin/webhooks/payloadpurge/").status_code == 200
    assert client.get("/admin/contacts/contactaccess/").status_code == 200
    response = client.post("/admin/contacts/contact/", {"action": "erase_data_subject",
                                                        "_selected_action": [contact.pk], "post": "yes",
                                                        "reason": "data_subject_request",
                                                        "reference": "DSR-9"})  # fmt: skip
    assert response.status_code == 302
    assert ErasureRecord.objects.filter(contact=contact, requested_by=auditor.username).exists()


def test_an_auditor_cannot_edit_contacts_read_raw_payloads_or_touch_the_log(client, auditor, erase):
    contact = ContactFactory(notes="original")
    record = erase()
    response = client.post(f"/admin/contacts/contact/{contact.pk}/change/", {"notes": "changed"})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.notes == "original"
    event = WebhookEventFactory()
    assert client.get("/admin/webhooks/webhookevent/").status_code == 403
    assert client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/").status_code == 403
    assert client.get(f"/admin/contacts/erasurerecord/{record.pk}/delete/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403
    assert not auditor.has_perm("contacts.change_contact")

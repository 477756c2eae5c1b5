"""Admin: the erasure log is read-only for everyone, exportable as CSV with its own permission; the
Contact "Erase (data-subject request)" action asks for confirmation and a reason."""

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission

from contacts.models import Contact, ErasureRecord
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

LOG_URL = "/admin/contacts/erasurerecord/"
CONTACTS_URL = "/admin/contacts/contact/"


def staff_with(client, *codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


class TestErasureLogAdmin:
    def test_even_a_superuser_cannot_add_change_or_delete_a_record(self, admin_client, erase):
        record = erase()
        assert admin_client.get(f"{LOG_URL}add/").status_code == 403
        assert admin_client.get(f"{LOG_URL}{record.pk}/delete/").status_code == 403
        assert admin_client.post(f"{LOG_URL}{record.pk}/change/", {"reason": "rewritten"}).status_code == 403
        response = admin_client.get(f"{LOG_URL}{record.pk}/change/")
        assert response.status_code == 200 and b'name="reason"' not in response.content  # shown, not editable
        assert ErasureRecord.objects.get().reason == record.reason

    def test_the_list_offers_no_bulk_delete_but_filters_dates_and_export(self, admin_client, erase):
        erase()
        response = admin_client.get(LOG_URL)
        actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
        assert "delete_selected" not in actions and "export_selected_csv" in actions
        changelist = response.context["cl"]
        assert changelist.has_filters and changelist.date_hierarchy == "erased_at"
        assert b"Export CSV" in response.content

    def test_export_holds_every_hashed_field_and_follows_the_list_filters(self, admin_client, erase):
        erase(requested_by_type="attendant")
        erase(requested_by_type="admin", requested_by="=HYPERLINK(1)", reason="legal_order", reference="DSR-42")
        rows = csv_rows(admin_client.get(f"{LOG_URL}export/?requested_by_type__exact=admin"))
        assert [row["sequence"] for row in rows] == ["2"]
        assert rows[0]["requested_by"] == "'=HYPERLINK(1)"  # a spreadsheet will not run it as a formula
        assert (rows[0]["reason"], rows[0]["reference"], rows[0]["hash_scheme"]) == ("legal_order", "DSR-42", "2")
        record = ErasureRecord.objects.get(sequence=2)
        assert rows[0]["hash"] == record.hash == record.digest_chain_hash(rows[0]["prev_hash"])
        assert set(ErasureRecord.DIGESTED_FIELDS) <= set(rows[0])

    def test_export_with_a_malformed_filter_goes_back_to_the_list(self, admin_client, erase):
        erase()
        response = admin_client.get(f"{LOG_URL}export/?erased_at__gte=not-a-date")
        assert response.status_code == 302 and response["Location"] == f"{LOG_URL}?e=1"

    def test_export_action_exports_the_selected_records(self, admin_client, erase):
        _first, second = erase(), erase()
        response = admin_client.post(LOG_URL, {"action": "export_selected_csv", "_selected_action": [second.pk]})
        assert [row["sequence"] for row in csv_rows(response)] == [str(second.sequence)]

    def test_viewing_the_log_does_not_allow_exporting_it(self, client, erase):
        erase()
        staff_with(client, "view_erasurerecord")
        response = client.get(LOG_URL)
        assert response.status_code == 200 and b"Export CSV" not in response.content
        assert client.get(f"{LOG_URL}export/").status_code == 403


class TestEraseAction:
    def post_action(self, client, contacts, **extra):
        data = {"action": "erase_data_subject", "_selected_action": [c.pk for c in contacts], **extra}
        return client.post(CONTACTS_URL, data)

    def test_asks_for_confirmation_and_offers_the_reason_codes_before_erasing(self, admin_client):
        contact = ContactFactory(name="Ana Costa")
        response = self.post_action(admin_client, [contact])
        assert response.status_code == 200
        assert "admin/contacts/contact/erase_confirmation.html" in [t.name for t in response.templates]
        assert b'<select name="reason"' in response.content and b"Ana Costa" in response.content
        assert b'value="retention"' in response.content and b'value="provider_deletion"' not in response.content
        contact.refresh_from_db()
        assert not contact.is_erased

        response = self.post_action(admin_client, [contact], post="yes", reason="Ana Costa asked by phone")
        assert response.status_code == 200 and b"Select a valid choice" in response.content
        assert not ErasureRecord.objects.exists()

    def test_confirmed_erasure_records_the_admin_user_as_requester(self, admin_client, admin_user):
        contact = ContactFactory(name="Ana Costa")
        response = self.post_action(admin_client, [contact], post="yes", reason="legal_order", reference="DSR-42")
        assert response.status_code == 302
        contact.refresh_from_db()
        assert contact.is_erased and contact.name == ""
        record = ErasureRecord.objects.get()
        assert (record.requested_by, record.requested_by_type) == (admin_user.username, "admin")
        assert (record.reason, record.reference) == ("legal_order", "DSR-42")
        entry = LogEntry.objects.get(object_id=str(contact.pk))
        assert (entry.object_repr, entry.get_change_message()) == (f"Erased contact #{contact.pk}",
                                                                   "Erased (data-subject request)")  # fmt: skip

    @pytest.mark.parametrize(
        "reference", ["ana.costa@exemplo.com.br", "Ana Costa", "Ana Da Li", "123.456.789-09", "+55 47 99123-4567",
                      "Rua das Flores 12", "CPF-12345678909", "DSR-88-1-2-3", "DSR 88", "DSR-٨٨"],
    )  # fmt: skip
    def test_a_reference_that_is_not_a_ticket_id_is_refused(self, admin_client, reference):
        contact = ContactFactory(name="Ana Costa", email="ana.costa@exemplo.com.br")
        response = self.post_action(admin_client, [contact], post="yes", reference=reference)
        assert response.status_code == 200 and b"Only a ticket id" in response.content
        assert not Contact.objects.get().is_erased and not ErasureRecord.objects.exists()

    def test_a_contact_known_only_by_its_ids_can_still_be_erased(self, admin_client):
        contact = ContactFactory(provider="fpt", name="", phone="", email="", source="", needs_refresh=True)
        response = self.post_action(admin_client, [contact], post="yes", reference="DSR-77")
        assert response.status_code == 302
        assert ErasureRecord.objects.get().contact_id == contact.pk

    def test_already_erased_contacts_are_left_alone(self, admin_client, erase):
        contact = ContactFactory()
        erase(contact)
        response = self.post_action(admin_client, [contact], post="yes")
        assert response.status_code == 302 and ErasureRecord.objects.count() == 1

    def test_the_action_is_offered_only_with_the_erase_permission(self, client):
        ContactFactory()
        staff_with(client, "view_contact", "change_contact")
        response = client.get(CONTACTS_URL)
        assert response.status_code == 200 and b"erase_data_subject" not in response.content
        self.post_action(client, list(Contact.objects.all()), post="yes", reference="DSR-1")
        assert not ErasureRecord.objects.exists()

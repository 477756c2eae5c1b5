"""Compliance staff in the admin: "Was this person erased?", the erasure log's reasons, tombstone ↔ record
links, the contact page's Erase button, and sales' contacts export with its own permission."""

import json

import pytest
from django.urls import reverse

from contacts.models import Contact
from tests.contacts.test_erasure_admin import csv_rows, staff_with
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LOOKUP_URL = "/admin/contacts/erasurerecord/lookup/"
LOG_URL = "/admin/contacts/erasurerecord/"
CONTACTS_URL = "/admin/contacts/contact/"


def change_url(contact):
    return reverse("admin:contacts_contact_change", args=[contact.pk])


class TestWasThisPersonErased:
    @pytest.fixture
    def erased_ana(self, settings, erase):
        settings.ERASURE_FINGERPRINT_KEY = "a-key-kept-outside-the-database"
        return erase(ContactFactory(external_id="cont_456", email="ana.costa@exemplo.com.br", phone="+5547991234567"),
                     reference="DSR-4711")  # fmt: skip

    @pytest.mark.parametrize(
        "data", [{"email": " Ana.Costa@Exemplo.com.br "}, {"phone": "(47) 99123-4567"}, {"phone": "+55 47 99123 4567"}]
    )
    def test_finds_the_record_and_links_it_and_the_tombstone(self, admin_client, erased_ana, data):
        response = admin_client.post(LOOKUP_URL, data)

        page = response.content.decode()
        assert response.status_code == 200 and 'id="crm-lookup-found"' in page
        assert reverse("admin:contacts_erasurerecord_change", args=[erased_ana.pk]) in page
        assert change_url(erased_ana.contact) in page
        assert "Data-subject request DSR-4711" in page

    def test_someone_never_erased_is_said_so(self, admin_client, erased_ana):
        page = admin_client.post(LOOKUP_URL, {"email": "bruno@exemplo.com.br"}).content.decode()
        assert 'id="crm-lookup-none"' in page and 'id="crm-lookup-found"' not in page

    def test_the_form_posts_so_no_email_lands_in_a_url(self, admin_client, erased_ana):
        page = admin_client.get(LOOKUP_URL).content.decode()
        assert '<form method="post"' in page and 'id="crm-lookup-' not in page.split("</form>")[1]

    def test_an_empty_form_asks_for_an_email_or_phone(self, admin_client, erased_ana):
        page = admin_client.post(LOOKUP_URL, {"email": " ", "phone": ""}).content.decode()
        assert "Give an email or a phone number." in page and 'id="crm-lookup-' not in page.split("</form>")[1]

    def test_without_a_key_the_page_says_why_nothing_can_be_found(self, admin_client, settings, erase):
        settings.ERASURE_FINGERPRINT_KEY = ""
        erase(ContactFactory(email="ana.costa@exemplo.com.br"))
        page = admin_client.post(LOOKUP_URL, {"email": "ana.costa@exemplo.com.br"}).content.decode()
        assert 'id="crm-lookup-no-key"' in page and "ERASURE_FINGERPRINT_KEY" in page
        assert 'id="crm-lookup-found"' not in page and 'id="crm-lookup-none"' not in page
        assert "What to do" in page and "restart the service" in page and "docs/production.md" in page
        in_portuguese = admin_client.get(LOOKUP_URL, headers={"accept-language": "pt-BR"}).content.decode()
        assert "O que fazer" in in_portuguese and "reinicie o serviço" in in_portuguese

    def test_needs_the_permission_to_view_the_log(self, client, erased_ana):
        staff_with(client, "view_contact")
        assert client.post(LOOKUP_URL, {"email": "ana.costa@exemplo.com.br"}).status_code == 403

    def test_the_log_links_to_the_lookup(self, admin_client, erased_ana):
        assert LOOKUP_URL in admin_client.get(LOG_URL).content.decode()


class TestErasureLogReasons:
    def test_the_reason_and_reference_are_columns_and_the_reference_is_searchable(self, admin_client, erase):
        wanted = erase(reason="legal_order", reference="DSR-4711")
        _other = erase(reference="DSR-9000")

        response = admin_client.get(LOG_URL, {"q": "DSR-4711"})

        assert [record.pk for record in response.context["cl"].result_list] == [wanted.pk]
        assert "DSR-4711" in response.content.decode() and "Legal or court order" in response.content.decode()

    def test_a_tombstone_and_its_record_link_to_each_other(self, admin_client, erase):
        record = erase()
        contact_page = admin_client.get(change_url(record.contact)).content.decode()
        record_page = admin_client.get(reverse("admin:contacts_erasurerecord_change", args=[record.pk])).content

        assert f'href="{reverse("admin:contacts_erasurerecord_change", args=[record.pk])}"' in contact_page
        assert f'href="{change_url(record.contact)}"'.encode() in record_page


class TestEraseButton:
    def test_the_contact_page_offers_erase_and_it_leads_to_the_confirmation(self, admin_client):
        contact = ContactFactory(name="Ana Costa")
        page = admin_client.get(change_url(contact)).content.decode()
        assert 'id="crm-erase-button"' in page
        form = page.split('class="crm-erase-form"')[1].split("</form>")[0]

        # What the button posts: the list's erase action for this one contact.
        response = admin_client.post(
            CONTACTS_URL, {"action": "erase_data_subject", "_selected_action": str(contact.pk)}
        )

        assert f'value="{contact.pk}"' in form and 'value="erase_data_subject"' in form
        assert "admin/contacts/contact/erase_confirmation.html" in [t.name for t in response.templates]
        assert not Contact.objects.get(pk=contact.pk).is_erased  # nothing happens before the reason is confirmed

    def test_no_button_without_the_permission_or_on_a_tombstone(self, client, admin_client, erase):
        contact, tombstone = ContactFactory(), erase().contact
        staff_with(client, "view_contact", "change_contact")

        assert 'id="crm-erase-button"' not in client.get(change_url(contact)).content.decode()
        assert 'id="crm-erase-button"' not in admin_client.get(change_url(tombstone)).content.decode()


class TestContactExport:
    def test_the_filtered_list_exports_as_csv(self, admin_client):
        ContactFactory(name="Ana Costa", tags=["cliente-vip"], custom_fields={"plano": "Ouro"}, source="whatsapp")
        ContactFactory(name="=HYPERLINK(1)", source="whatsapp")
        ContactFactory(name="Bruno Lima", source="instagram")

        listing = admin_client.get(CONTACTS_URL, {"source__exact": "whatsapp"}).content.decode()
        rows = csv_rows(admin_client.get(f"{CONTACTS_URL}export/", {"source__exact": "whatsapp"}))
        searched = csv_rows(admin_client.get(f"{CONTACTS_URL}export/", {"q": "costa ana"}))

        assert f"{CONTACTS_URL}export/?source__exact=whatsapp" in listing
        assert sorted(row["name"] for row in rows) == ["'=HYPERLINK(1)", "Ana Costa"]
        ana = next(row for row in rows if row["name"] == "Ana Costa")
        assert json.loads(ana["tags"]) == ["cliente-vip"] and json.loads(ana["custom_fields"]) == {"plano": "Ouro"}
        assert ana["updated_at"].endswith("+00:00")  # UTC, as the API
        assert [row["name"] for row in searched] == ["Ana Costa"]

    def test_the_selected_contacts_export_as_csv(self, admin_client):
        _first, second = ContactFactory(), ContactFactory()
        response = admin_client.post(CONTACTS_URL, {"action": "export_selected_csv", "_selected_action": [second.pk]})
        assert [row["external_id"] for row in csv_rows(response)] == [second.external_id]

    def test_viewing_contacts_does_not_allow_exporting_them(self, client):
        ContactFactory()
        staff_with(client, "view_contact", "change_contact")

        response = client.get(CONTACTS_URL)

        assert "export_selected_csv" not in response.content.decode() and "Export CSV" not in response.content.decode()
        assert client.get(f"{CONTACTS_URL}export/").status_code == 403

    def test_with_the_export_permission_sales_can_export(self, client):
        ContactFactory()
        staff_with(client, "view_contact", "export_contact")
        assert len(csv_rows(client.get(f"{CONTACTS_URL}export/"))) == 1

"""An id not in plain form is stored as its keyed digest (config.erased_ids); staff and API clients type it
as the provider sent it ("Maria Souza", an email address). Every exact id filter and id search box digests
the typed value the same way, so the row stored under the digest is found, and only that row."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from config.erased_ids import stored_id
from contacts.services.erasure_log import append_erasure_record
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

NAME, EMAIL = "Maria Souza", "maria.souza+crm@exemplo.com.br"


def api(*codenames):
    user = UserFactory()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def record(external_id: str, event_id: str = ""):
    contact = ContactFactory(external_id=external_id, erased=True)
    return append_erasure_record(
        provider="timely", account_id="ws_abc123", external_id=external_id, contact=contact,
        event_id=event_id, requested_by="usr_1", requested_by_type="attendant", erased_at=timezone.now(),
        reason="provider_deletion",
    )  # fmt: skip


class TestTheApi:
    def test_contacts_by_an_external_id_typed_as_sent(self):
        wanted = ContactFactory(external_id=stored_id(EMAIL))
        ContactFactory(external_id="cont_other")
        client = api("view_contact")

        assert ids(client.get("/api/contacts/", {"external_id": EMAIL})) == [wanted.pk]
        assert ids(client.get("/api/contacts/", {"external_id": stored_id(EMAIL)})) == [wanted.pk]
        assert ids(client.get("/api/contacts/", {"search": EMAIL})) == [wanted.pk]

    def test_a_plain_id_is_matched_as_it_is_and_nothing_else(self):
        plain = ContactFactory(external_id="cont_456")
        ContactFactory(external_id="cont_4567")

        assert ids(api("view_contact").get("/api/contacts/", {"external_id": "cont_456"})) == [plain.pk]

    def test_contacts_by_an_account_id_typed_as_sent(self):
        wanted = ContactFactory(account_id=stored_id("Clínica Sorriso"), external_id="cont_1")
        ContactFactory(account_id="ws_abc123", external_id="cont_2")

        response = api("view_contact").get("/api/contacts/", {"account_id": "Clínica Sorriso"})

        assert ids(response) == [wanted.pk]

    def test_erasure_records_by_an_external_id_typed_as_sent(self):
        wanted = record(stored_id(NAME))
        record("cont_other")

        response = api("view_erasurerecord").get("/api/erasures/", {"external_id": NAME})

        assert ids(response) == [wanted.pk]

    def test_webhook_events_by_external_and_event_ids_typed_as_sent(self):
        by_contact = WebhookEventFactory(external_id=stored_id(NAME))
        by_event = WebhookEventFactory(external_id="cont_1", event_id=stored_id("evt Maria 1"))
        WebhookEventFactory(external_id="cont_2")
        client = api("view_webhookevent")

        assert ids(client.get("/api/webhook-events/", {"external_id": NAME})) == [by_contact.pk]
        assert ids(client.get("/api/webhook-events/", {"event_id": "evt Maria 1"})) == [by_event.pk]


class TestTheAdmin:
    def listed(self, client, url, term):
        response = client.get(url, {"q": term})
        assert response.status_code == 200
        return sorted(row.pk for row in response.context["cl"].result_list)

    def test_the_erasure_log_finds_a_record_by_the_contact_id_typed_as_sent(self, admin_client):
        wanted = record(stored_id(NAME))
        by_event = record("cont_2", event_id=stored_id(f"del {EMAIL}"))
        record("cont_3")
        url = "/admin/contacts/erasurerecord/"

        assert self.listed(admin_client, url, f" {NAME} ") == [wanted.pk]
        assert self.listed(admin_client, url, f"del {EMAIL}") == [by_event.pk]
        # A plain id still matches by itself, word for word as before.
        assert self.listed(admin_client, url, "cont_2") == [by_event.pk]

    def test_the_event_list_finds_events_by_the_contact_id_typed_as_sent(self, admin_client):
        mine = WebhookEventFactory.create_batch(2, external_id=stored_id(EMAIL))
        WebhookEventFactory(external_id="cont_1")

        found = self.listed(admin_client, "/admin/webhooks/webhookevent/", EMAIL)

        assert found == sorted(event.pk for event in mine)

    def test_the_contact_list_finds_a_contact_by_its_id_typed_as_sent(self, admin_client):
        wanted = ContactFactory(external_id=stored_id(NAME), name="Outra Pessoa")
        ContactFactory(external_id="cont_1", name="Alguém")

        assert self.listed(admin_client, "/admin/contacts/contact/", NAME) == [wanted.pk]

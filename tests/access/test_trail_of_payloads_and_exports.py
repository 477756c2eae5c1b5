"""The access trail of raw payloads (webhook events, admin and API) and of exports: a row per contact shown,
written as the download streams."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from config.staff import answer_reads
from contacts.models import ContactAccess
from contacts.services import erase_on_request
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

Kind = ContactAccess.Kind


def event_about(contact, **fields):
    body = {"event": "contact.updated", "data": {"contact_id": contact.external_id, "name": contact.name}}
    return WebhookEventFactory(provider=contact.provider, account_id=contact.account_id,
                               external_id=contact.external_id, body=json.dumps(body).encode(), **fields)  # fmt: skip


def named(kind):
    return sorted(ContactAccess.objects.filter(kind=kind).values_list("contact_id", "rows"), key=str)


def test_an_event_s_page_names_the_contact_its_payload_is_about(admin_client):
    maria = ContactFactory(name="Maria Falcão", external_id="cont_maria")
    event = event_about(maria)

    page = admin_client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/").content.decode()

    assert "Maria Falcão" in page
    assert named(Kind.EVENT_PAGE) == [(maria.pk, 1)]


def test_the_event_list_shows_no_payload_and_names_no_one(admin_client):
    event_about(ContactFactory(name="Maria Falcão"))

    page = admin_client.get("/admin/webhooks/webhookevent/").content.decode()

    assert "Maria Falcão" not in page
    assert not ContactAccess.objects.exists()


def test_the_api_s_event_list_and_detail_name_each_payload_s_contact_once(client):
    maria, joao = ContactFactory(name="Maria Falcão"), ContactFactory(name="João Brandão")
    events = [event_about(maria), event_about(maria), event_about(joao)]
    event_about(ContactFactory(name="Next Page"))  # read to learn that a next page exists, never shown
    WebhookEventFactory(external_id="cont_unknown")  # a subject we hold no contact for
    reader = UserFactory(username="events-reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_webhookevent"))
    headers = {"Authorization": f"Token {Token.objects.create(user=reader).key}"}

    listed = client.get("/api/webhook-events/", {"page_size": "3"}, headers=headers).json()["results"]
    client.get(f"/api/webhook-events/{events[2].pk}/", headers=headers)

    assert [event["id"] for event in listed] == [event.pk for event in events]
    assert named(Kind.API_EVENT_LIST) == sorted([(maria.pk, 2), (joao.pk, 2)], key=str)
    assert named(Kind.API_EVENT) == [(joao.pk, 1)]
    assert set(ContactAccess.objects.values_list("user__username", flat=True)) == {"events-reader"}


def test_a_redacted_payload_of_an_erased_contact_names_no_one(admin_client):
    maria = ContactFactory(name="Maria Falcão")
    event = event_about(maria)
    erase_on_request(contact=maria, requested_by="admin", requested_by_type="admin", reference="DSR-9")

    assert admin_client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/").status_code == 200
    assert not ContactAccess.objects.exists()


@pytest.mark.parametrize(("action", "kind"), [("export_csv", Kind.EVENTS_CSV), ("export_json", Kind.EVENTS_JSON)])
def test_an_event_export_names_each_payload_s_contact_besides_its_count(admin_client, action, kind):
    maria = ContactFactory(name="Maria Falcão")
    events = [event_about(maria), event_about(maria), WebhookEventFactory()]

    response = admin_client.post("/admin/webhooks/webhookevent/",
                                 {"action": action, "_selected_action": [e.pk for e in events]})  # fmt: skip
    content = b"".join(response.streaming_content) if response.streaming else response.content

    assert "Maria Falcão" in content.decode()
    assert named(kind) == sorted([(maria.pk, 1), (None, 3)], key=str)


def test_a_contacts_export_names_each_contact_as_it_streams_in_one_insert_per_part(admin_client, monkeypatch):
    monkeypatch.setattr(answer_reads, "STREAMED_HAND_OVER_EVERY", 2)
    contacts = ContactFactory.create_batch(5)
    erased = ContactFactory()
    erase_on_request(contact=erased, requested_by="admin", requested_by_type="admin", reference="DSR-9")

    response = admin_client.get("/admin/contacts/contact/export/")
    assert not ContactAccess.objects.filter(contact__isnull=False).exists()  # nothing read yet
    with CaptureQueriesContext(connection) as queries:
        b"".join(response.streaming_content)

    assert sorted(ContactAccess.objects.filter(contact__isnull=False).values_list("contact_id", flat=True)) == sorted(
        contact.pk for contact in contacts
    )
    assert len([q for q in queries if q["sql"].startswith('INSERT INTO "contacts_contactaccess"')]) == 3
    assert set(ContactAccess.objects.values_list("kind", flat=True)) == {Kind.CONTACTS_CSV}

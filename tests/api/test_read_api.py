"""The read-only REST API: authentication, the view permission, filters, fields and pagination."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contacts.models import Contact
from contacts.services import erase_on_request
from tests.conftest import load_fixture
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

CONTACT_FIELDS = {
    "id", "provider", "account_id", "external_id", "name", "phone", "email", "avatar_url", "source", "tags",
    "custom_fields", "assigned_to", "status_id", "status", "sub_group_id", "can_sms", "can_email", "can_call",
    "remote_created_at", "remote_updated_at", "needs_refresh", "erased_at", "created_at", "updated_at",
}  # fmt: skip
EVENT_FIELDS = {
    "id", "provider", "event_id", "event_type", "account_id", "external_id", "status", "status_reason",
    "occurred_at", "received_at", "processed_at", "payload",
}  # fmt: skip
ERASURE_FIELDS = {
    "id", "provider", "account_id", "external_id", "event_id", "requested_by", "requested_by_type", "deleted_at",
    "erased_at", "reason", "erased_fields", "redacted_events", "reference", "prev_hash", "hash", "propagation",
}  # fmt: skip


@pytest.fixture
def erase_on_request_as_dpo():
    return lambda **why: erase_on_request(contact=ContactFactory(), requested_by="dpo", requested_by_type="cli", **why)


def reader(*codenames):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_anonymous_requests_are_refused():
    assert APIClient().get("/api/contacts/").status_code == 401


def test_token_without_the_view_permission_is_forbidden():
    assert reader().get("/api/contacts/").status_code == 403
    assert reader("view_contact").get("/api/webhook-events/").status_code == 403


def test_session_authentication_works_for_staff(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/api/contacts/").status_code == 200


def test_api_is_read_only():
    client = reader("view_contact", "add_contact", "change_contact", "delete_contact")
    contact = ContactFactory()
    assert client.post("/api/contacts/", {"name": "x"}).status_code == 405
    assert client.patch(f"/api/contacts/{contact.pk}/", {"name": "x"}).status_code == 405
    assert client.delete(f"/api/contacts/{contact.pk}/").status_code == 405


def test_contact_fields_and_pagination_shape():
    contact = ContactFactory(tags=["vip"], custom_fields={"plano": "pro"})
    response = reader("view_contact").get("/api/contacts/")
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert set(body["results"][0]) == CONTACT_FIELDS
    detail = reader("view_contact").get(f"/api/contacts/{contact.pk}/").json()
    assert (detail["name"], detail["tags"], detail["custom_fields"]) == (contact.name, ["vip"], {"plano": "pro"})


def test_cursor_pages_walk_every_contact_once():
    contacts = ContactFactory.create_batch(7)
    client = reader("view_contact")
    seen, url = [], "/api/contacts/?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(c.pk for c in contacts)
    assert len(seen) == len(set(seen))


def test_contact_filters():
    client = reader("view_contact")
    ana = ContactFactory(name="Ana Costa", email="ana@exemplo.com.br", phone="+5547991234567", external_id="c1")
    bruno = ContactFactory(name="Bruno", account_id="ws_other", external_id="c2")
    erased = ContactFactory(external_id="c3", erased=True)
    fpt = ContactFactory(provider="fpt", account_id="77", external_id="c4", name="Carla Dias")  # not a random "Costa"

    assert ids(client.get("/api/contacts/?provider=fpt")) == [fpt.pk]
    assert ids(client.get("/api/contacts/?account_id=ws_other")) == [bruno.pk]
    assert ids(client.get("/api/contacts/?external_id=c1")) == [ana.pk]
    assert ids(client.get("/api/contacts/?erased=true")) == [erased.pk]
    assert erased.pk not in ids(client.get("/api/contacts/?erased=false"))
    assert ids(client.get("/api/contacts/?search=costa")) == [ana.pk]
    assert ids(client.get("/api/contacts/?search=ANA@EXEMPLO")) == [ana.pk]
    assert ids(client.get("/api/contacts/?search=(47) 99123-4567")) == [ana.pk]


def test_updated_since_returns_only_newer_changes():
    client = reader("view_contact")
    old = ContactFactory()
    new = ContactFactory()
    Contact.objects.filter(pk=old.pk).update(updated_at="2026-01-01T00:00:00Z")
    Contact.objects.filter(pk=new.pk).update(updated_at="2026-03-01T00:00:00Z")
    assert ids(client.get("/api/contacts/?updated_since=2026-02-01T00:00:00Z")) == [new.pk]
    assert client.get("/api/contacts/?updated_since=yesterday").status_code == 400


def test_webhook_event_fields_and_filters(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.created"))
    post_webhook("timely", load_fixture("timely", "conversation.created"))
    other = WebhookEventFactory(event_type="contact.updated", external_id="cont_other", status="failed")
    client = reader("view_webhookevent")
    rows = client.get("/api/webhook-events/?event_type=contact.created").json()["results"]
    assert len(rows) == 1 and set(rows[0]) == EVENT_FIELDS
    assert rows[0]["payload"]["data"]["name"] == "Ana Costa"
    assert ids(client.get("/api/webhook-events/?status=failed")) == [other.pk]
    assert len(ids(client.get("/api/webhook-events/?external_id=cont_456"))) == 2
    assert len(ids(client.get("/api/webhook-events/?event_id=evt_01HX5A1K9MFQR4YZDNV7P9WCE"))) == 1
    assert ids(client.get("/api/webhook-events/?provider=fpt")) == []


def test_erasures_fields_and_filters(post_webhook):
    post_webhook("timely", load_fixture("timely", "contact.deleted"))
    client = reader("view_erasurerecord")
    rows = client.get("/api/erasures/?external_id=cont_456").json()["results"]
    assert len(rows) == 1 and set(rows[0]) == ERASURE_FIELDS
    assert (rows[0]["reason"], rows[0]["reference"]) == ("provider_deletion", "")
    assert ids(client.get("/api/erasures/?account_id=nope")) == []


def test_erasures_reason_is_a_code_and_reference_a_ticket_id(erase_on_request_as_dpo):
    erase_on_request_as_dpo(reason="legal_order", reference="LGPD/2026/0042")
    row = reader("view_erasurerecord").get("/api/erasures/").json()["results"][0]
    assert (row["reason"], row["reference"]) == ("legal_order", "LGPD/2026/0042")


def test_openapi_schema_describes_every_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/contacts/", "/api/webhook-events/", "/api/erasures/"} <= set(schema["paths"])
    erasure = schema["components"]["schemas"]["ErasureRecord"]["properties"]
    assert "reference" in erasure
    reason_codes = {"provider_deletion", "data_subject_request", "consent_withdrawn", "retention", "legal_order",
                    "restore"}  # fmt: skip
    assert reason_codes <= set(str(schema["components"]["schemas"]).split("'")) and "reason" in erasure
    params = {p["name"] for p in schema["paths"]["/api/contacts/"]["get"]["parameters"]}
    assert {"provider", "account_id", "external_id", "updated_since", "erased", "search", "cursor"} <= params

import json

import pytest

from config.values.erased_ids import stored_id
from tests.conftest import encode, timely_headers
from tests.factories import WebhookEventFactory
from webhooks import rebuild
from webhooks.bridge import stored_events
from webhooks.models import ErasedSubject, WebhookEvent, WebhookEventStatus


def updated_body(contact_id: str, name: str) -> bytes:
    payload = {
        "event": "contact.updated",
        "event_id": f"evt_{abs(hash(name))}",
        "timestamp": "2026-04-19T15:10:00Z",
        "workspace_id": "ws_abc123",
        "data": {"contact_id": contact_id, "changes": {"name": {"before": "Ana", "after": name}}},
    }
    return json.dumps(payload).encode()


@pytest.mark.django_db
def test_erasure_redacts_every_stored_payload_of_the_contact_across_batches(monkeypatch):
    monkeypatch.setattr(rebuild, "REBUILD_BATCH", 2)
    hers = [
        WebhookEventFactory(external_id="cont_456", body=updated_body("cont_456", f"Ana Costa {n}")) for n in range(5)
    ]
    other = WebhookEventFactory(external_id="cont_789", body=updated_body("cont_789", "Bruno Silva"))

    redacted = stored_events().rebuild_subject_copies(provider="timely", account_id="ws_abc123", external_id="cont_456")

    assert redacted == 5
    for event in WebhookEvent.objects.filter(pk__in=[e.pk for e in hers]):
        assert b"Ana Costa" not in bytes(event.body)
        # ``changes`` is free-form: its keys go with its values.
        assert event.payload["data"]["changes"] == "[redacted]"
        assert event.payload["data"]["contact_id"] == "cont_456"
        assert event.redacted_at is not None
    other.refresh_from_db()
    assert b"Bruno Silva" in bytes(other.body) and other.redacted_at is None


@pytest.mark.django_db
def test_payloads_already_redacted_are_not_counted_again():
    WebhookEventFactory(external_id="cont_456", body=updated_body("cont_456", "Ana Costa"))
    stored_events().rebuild_subject_copies(provider="timely", account_id="ws_abc123", external_id="cont_456")

    redacted = stored_events().rebuild_subject_copies(provider="timely", account_id="ws_abc123", external_id="cont_456")

    assert redacted == 0


def post_unprocessed(client, payload):
    """POST with workers (the ``worker_mode`` fixture): what ingest alone stored, nothing applied yet."""
    body = encode(payload)
    response = client.generic(
        "POST", "/webhooks/timely/", body, content_type="application/json", headers=timely_headers(body)
    )
    assert response.status_code == 200
    return body, WebhookEvent.objects.get(pk=response.json()["event"])


@pytest.mark.django_db
@pytest.mark.usefixtures("worker_mode")
def test_late_delivery_about_an_erased_contact_is_stored_redacted_before_any_processing(client, timely_fixture):
    ErasedSubject.objects.create(provider="timely", account_id="ws_abc123", external_id="cont_456")

    _body, event = post_unprocessed(client, timely_fixture("contact.created"))

    assert event.status == WebhookEventStatus.RECEIVED
    assert event.redacted_at is not None
    assert b"Ana" not in bytes(event.body) and b"exemplo" not in bytes(event.body)
    assert event.payload["data"]["contact_id"] == "cont_456"


@pytest.mark.django_db
@pytest.mark.usefixtures("worker_mode")
def test_a_late_delivery_about_an_erased_contact_sent_again_is_a_duplicate_of_its_redacted_row(
    client, timely_fixture
):
    ErasedSubject.objects.create(provider="timely", account_id="ws_abc123", external_id="cont_456")
    payload = timely_fixture("contact.created")
    _body, first = post_unprocessed(client, payload)

    body = encode(payload)
    again = client.generic(
        "POST", "/webhooks/timely/", body, content_type="application/json", headers=timely_headers(body)
    )

    assert again.json() == {"status": "duplicate", "event": first.pk}
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("worker_mode")
def test_delivery_about_a_contact_never_erased_is_stored_byte_for_byte(client, timely_fixture):
    ErasedSubject.objects.create(provider="timely", account_id="ws_abc123", external_id="cont_999")

    body, event = post_unprocessed(client, timely_fixture("contact.created"))

    assert bytes(event.body) == body
    assert event.redacted_at is None


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_binary_redaction_update_goes_through_djangos_cursor_wrappers():
    """On PostgreSQL the payloads go as binary parameters through a cursor of our own; it must still pass
    Django's execute wrappers (what the outage tests and query budgets rely on) and query logging."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    WebhookEventFactory(external_id="cont_456", body=updated_body("cont_456", "Ana Costa"))
    wrapped = []

    def spy(execute, sql, params, many, context):
        wrapped.append(sql)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(spy):
        stored_events().rebuild_subject_copies(provider="timely", account_id="ws_abc123", external_id="cont_456")

    assert any("unnest" in sql for sql in wrapped)
    logged = [q["sql"] for q in captured.captured_queries if "unnest" in q["sql"]]
    assert len(logged) == 1 and "Ana Costa" not in logged[0]
    assert b"Ana Costa" not in bytes(WebhookEvent.objects.get(external_id="cont_456").body)


def test_rebuilt_body_is_the_rebuilt_payload_in_the_stored_encoding():
    from webhooks.providers import get_provider

    provider = get_provider("timely")
    payload = {**json.loads(updated_body("cont_456", "João Conceição")), "workspace_id": "ws_são_paulo"}

    body = provider.rebuilt_body(payload, event_type="contact.updated")

    assert "João".encode() not in body and "Conceição".encode() not in body
    # An id not in plain form survives only as its keyed digest; stored compact, as ingest stores bodies.
    assert "ws_são_paulo".encode() not in body
    assert json.loads(body)["workspace_id"] == stored_id("ws_são_paulo") != "ws_são_paulo"
    assert b", " not in body and b'": ' not in body

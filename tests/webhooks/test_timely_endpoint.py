"""POST /webhooks/timely/: every answer of the HTTP contract, and what is stored for each."""

import hashlib
import json

import pytest
from django.db import DatabaseError, connection

from tests.conftest import load_fixture
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db

DOCUMENTED_EVENTS = ["contact.created", "contact.updated", "contact.deleted", "conversation.created"]


@pytest.mark.parametrize("name", DOCUMENTED_EVENTS)
def test_every_documented_fixture_is_accepted_and_stored(post_webhook, name):
    payload = load_fixture("timely", name)
    response = post_webhook("timely", payload)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "event": WebhookEvent.objects.get().pk}
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_type, event.dedupe_key) == ("timely", name, payload["event_id"])
    assert (event.account_id, event.external_id) == ("ws_abc123", payload["data"]["contact_id"])
    assert event.status != WebhookEventStatus.RECEIVED  # processed after commit
    assert event.remote_addr == "127.0.0.1"


def test_raw_bytes_are_stored_exactly_as_received(post_webhook):
    body = (
        b'{"event":"contact.created",  "event_id":"evt_raw","timestamp":"2026-04-19T14:30:00Z",'
        b'"workspace_id":"ws_abc123","data":{"contact_id":"cont_1","name":"Z\\u00e9"}}'
    )
    post_webhook("timely", body)
    assert bytes(WebhookEvent.objects.get().body) == body


def test_duplicate_delivery_answers_duplicate_with_the_first_id(post_webhook):
    payload = load_fixture("timely", "contact.created")
    first = post_webhook("timely", payload).json()
    second = post_webhook("timely", payload)
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate", "event": first["event"]}
    assert WebhookEvent.objects.count() == 1


def test_without_event_id_the_body_hash_is_the_dedupe_key(post_webhook):
    payload = load_fixture("timely", "contact.created")
    del payload["event_id"]
    body = json.dumps(payload).encode()
    post_webhook("timely", body)
    assert post_webhook("timely", body).json()["status"] == "duplicate"
    event = WebhookEvent.objects.get()
    assert event.dedupe_key == hashlib.sha256(body).hexdigest()
    assert event.event_id == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"{}", "'event'"),
        (json.dumps({"event": "contact.created", "workspace_id": "w", "data": {}}).encode(), "'timestamp'"),
        (json.dumps({"event": "contact.created", "timestamp": "yesterday", "workspace_id": "w", "data": {}}).encode(),
         "'timestamp'"),
        (json.dumps({"event": "contact.created", "timestamp": "2026-04-19T14:30:00Z", "data": {}}).encode(),
         "'workspace_id'"),
        (json.dumps({"event": "contact.created", "timestamp": "2026-04-19T14:30:00Z", "workspace_id": "w",
                     "data": []}).encode(), "'data'"),
        (json.dumps({"event": "contact.created", "timestamp": "2026-04-19T14:30:00Z", "workspace_id": "w",
                     "data": {}}).encode(), "'data.contact_id'"),
        (json.dumps({"event": "contact.updated", "timestamp": "2026-04-19T14:30:00Z", "workspace_id": "w",
                     "data": {"contact_id": "c", "changes": "all"}}).encode(), "'data.changes'"),
        (json.dumps({"event": 5, "timestamp": "2026-04-19T14:30:00Z", "workspace_id": "w",
                     "data": {"contact_id": "c"}}).encode(), "'event'"),
        (json.dumps({"event": "contact.created", "event_id": "e" * 129, "timestamp": "2026-04-19T14:30:00Z",
                     "workspace_id": "w", "data": {"contact_id": "c"}}).encode(), "'event_id' must be at most 128"),
        (json.dumps({"event": "contact.created", "timestamp": "2026-04-19T14:30:00Z", "workspace_id": "w" * 129,
                     "data": {"contact_id": "c"}}).encode(), "'workspace_id' must be at most 128"),
        (json.dumps({"event": "x" * 101, "timestamp": "2026-04-19T14:30:00Z", "workspace_id": "w",
                     "data": {"contact_id": "c"}}).encode(), "'event' must be at most 100"),
    ],
)  # fmt: skip
def test_unusable_envelopes_are_400_with_a_reason_and_not_stored(post_webhook, body, message):
    response = post_webhook("timely", body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


def test_workspace_outside_the_allow_list_is_403(post_webhook, settings):
    settings.WEBHOOK_PROVIDERS = {
        **settings.WEBHOOK_PROVIDERS,
        "timely": {**settings.WEBHOOK_PROVIDERS["timely"], "ACCOUNT_IDS": ["ws_other"]},
    }
    response = post_webhook("timely", load_fixture("timely", "contact.created"))
    assert response.status_code == 403
    assert "ws_abc123" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


def test_allowed_workspace_is_accepted(post_webhook, settings):
    settings.WEBHOOK_PROVIDERS = {
        **settings.WEBHOOK_PROVIDERS,
        "timely": {**settings.WEBHOOK_PROVIDERS["timely"], "ACCOUNT_IDS": ["ws_other", "ws_abc123"]},
    }
    assert post_webhook("timely", load_fixture("timely", "contact.created")).status_code == 200


def test_body_over_the_limit_is_413_before_verification(post_webhook, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    response = post_webhook("timely", {"padding": "x" * 200}, sign=False)
    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


def test_body_over_the_limit_is_refused_even_with_a_lying_content_length(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    from django.test.client import FakePayload

    body = b"{" + b" " * 300 + b"}"
    response = client.generic(
        "POST", "/webhooks/timely/", b"", content_type="application/json",
        **{"wsgi.input": FakePayload(body), "CONTENT_LENGTH": str(len(body))},
    )  # fmt: skip
    assert response.status_code == 413


def test_unknown_provider_is_404(client):
    assert client.post("/webhooks/nope/", b"{}", content_type="application/json").status_code == 404


def test_database_down_while_storing_is_503_and_nothing_claims_success(post_webhook):
    def refuse_event_inserts(execute, sql, params, many, context):
        if sql.replace('"', "").startswith(f"INSERT INTO {WebhookEvent._meta.db_table} "):
            raise DatabaseError("connection refused")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_event_inserts):
        response = post_webhook("timely", load_fixture("timely", "contact.created"))
    assert response.status_code == 503
    assert "retry" in response.json()["error"]


def test_unknown_event_family_is_stored_and_ignored(post_webhook):
    post_webhook("timely", load_fixture("timely", "conversation.created"))
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.IGNORED
    assert "conversation.created" in event.status_reason


def test_trusted_proxy_address_is_used_only_when_configured(post_webhook, settings):
    payload = load_fixture("timely", "contact.created")
    post_webhook("timely", payload, headers={"X-Forwarded-For": "203.0.113.9"})
    assert WebhookEvent.objects.get().remote_addr == "127.0.0.1"

    settings.WEBHOOK_TRUSTED_PROXY_COUNT = 1
    post_webhook("timely", {**payload, "event_id": "evt_2"}, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    assert WebhookEvent.objects.get(event_id="evt_2").remote_addr == "203.0.113.9"

"""The webhook event pages: what arrived, what it meant, and the actions staff take on it."""

import csv
import io
import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.web.pagination import CappedCountPaginator
from contacts.models import Contact
from tests.factories import WebhookEventFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/webhooks/webhookevent/"


def stored(post_webhook, timely_fixture, name="contact.created"):
    response = post_webhook("timely", timely_fixture(name))
    assert response.status_code == 200
    return WebhookEvent.objects.get(pk=response.json()["event"])


def test_event_page_shows_payload_headers_signature_history_and_the_contact(admin_client, post_webhook, timely_fixture):
    event = stored(post_webhook, timely_fixture)

    html = unescape(admin_client.get(f"{CHANGELIST}{event.pk}/change/").content.decode())

    assert '\n    "contact_id": "cont_456",\n' in html  # pretty-printed: one key per line, indented
    assert '"Content-Type": "application/json"' in html
    assert "timely-timestamped" in html
    assert "<code>email</code> <code>name</code>" in html  # changed fields, names only
    assert 'crm-status-processed">Processed</span>' in html
    assert "Attempts" in html and "Processed at" in html
    by_key = "/admin/contacts/contact/by-key/?provider=timely&account_id=ws_abc123&external_id=cont_456"
    assert f'href="{by_key}"' in html


def test_the_event_list_links_each_event_straight_to_its_contact(admin_client, post_webhook, timely_fixture):
    stored(post_webhook, timely_fixture)
    contact = Contact.objects.get(external_id="cont_456")
    listing = admin_client.get(CHANGELIST).content.decode()
    link = unescape(re.search(r'href="(/admin/contacts/contact/by-key/[^"]+)"', listing).group(1))

    response = admin_client.get(link)

    assert response.status_code == 302 and response["Location"] == f"/admin/contacts/contact/{contact.pk}/change/"


def test_a_key_with_no_contact_goes_back_to_the_list_and_says_so(admin_client):
    response = admin_client.get(
        "/admin/contacts/contact/by-key/", {"provider": "timely", "account_id": "ws_1", "external_id": "nobody"},
        follow=True,
    )  # fmt: skip

    assert response.redirect_chain == [("/admin/contacts/contact/", 302)]
    assert "No contact has these provider ids (yet)." in [str(m) for m in response.context["messages"]]


def test_events_are_found_by_their_contacts_provider_id(admin_client):
    mine = WebhookEventFactory.create_batch(2, external_id="cont_456")
    WebhookEventFactory(external_id="cont_4567")

    listing = admin_client.get(CHANGELIST, {"q": " cont_456 "})

    assert sorted(event.pk for event in listing.context["cl"].result_list) == sorted(event.pk for event in mine)


def test_the_event_list_counts_only_up_to_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    WebhookEventFactory.create_batch(4, account_id="ws_busy")
    WebhookEventFactory.create_batch(2, account_id="ws_quiet")

    busy = admin_client.get(CHANGELIST, {"q": "ws_busy"}).content.decode()
    quiet = admin_client.get(CHANGELIST, {"q": "ws_quiet"}).content.decode()

    assert "more than 3 webhook events" in busy
    assert "2 webhook events" in quiet and "more than" not in quiet


def test_reprocess_action_replays_a_failed_event(
    admin_client, post_webhook, timely_fixture, django_capture_on_commit_callbacks
):
    event = stored(post_webhook, timely_fixture)
    WebhookEvent.objects.filter(pk=event.pk).update(status="failed", status_reason="builtins.RuntimeError")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(CHANGELIST, {"action": "reprocess", "_selected_action": [event.pk]}, follow=True)

    event.refresh_from_db()
    assert event.status == "processed"
    assert event.attempts == 2
    assert "1 event queued for processing." in response.content.decode()


def test_reprocess_action_with_workers_makes_the_event_due_for_them(
    admin_client, post_webhook, timely_fixture, settings, run_worker_once
):
    event = stored(post_webhook, timely_fixture)
    WebhookEvent.objects.filter(pk=event.pk).update(status="failed", status_reason="builtins.RuntimeError")
    settings.WEBHOOK_PROCESSING = "worker"

    response = admin_client.post(CHANGELIST, {"action": "reprocess", "_selected_action": [event.pk]}, follow=True)

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("received", 1)
    assert "1 event queued for processing." in response.content.decode()
    assert run_worker_once() == 1
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)


def test_export_json_carries_the_selected_events_with_their_payloads(admin_client):
    chosen = WebhookEventFactory(body=b'{"event": "contact.updated"}', changed_fields=["name"], actor_id="usr_1")
    WebhookEventFactory()

    response = admin_client.post(CHANGELIST, {"action": "export_json", "_selected_action": [chosen.pk]})

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="webhook-events-')
    (row,) = json.loads(response.content)
    assert row["id"] == chosen.pk
    assert row["payload"] == {"event": "contact.updated"}
    assert row["changed_fields"] == ["name"]
    assert row["actor_id"] == "usr_1"


def test_export_csv_has_a_header_and_one_line_per_event(admin_client):
    events = WebhookEventFactory.create_batch(3, headers={"User-Agent": "Timely"})

    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [e.pk for e in events]})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == sorted(e.pk for e in events)
    assert json.loads(rows[0]["headers"]) == {"User-Agent": "Timely"}
    assert json.loads(rows[0]["payload"]) == json.loads(bytes(events[0].body))


def test_export_csv_guards_values_a_spreadsheet_would_run_as_formulas(admin_client):
    event = WebhookEventFactory(event_id="=HYPERLINK(1)", dedupe_key="+5547991234567", actor_id="@admin")

    response = admin_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [event.pk]})

    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    (row,) = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    assert (row["event_id"], row["dedupe_key"], row["actor_id"]) == ("'=HYPERLINK(1)", "'+5547991234567", "'@admin")


def test_purged_payload_exports_as_null(admin_client):
    event = WebhookEventFactory(body=None)

    response = admin_client.post(CHANGELIST, {"action": "export_json", "_selected_action": [event.pk]})

    assert json.loads(response.content)[0]["payload"] is None


def test_event_list_leaves_bodies_in_the_database_and_costs_the_same_for_more_rows(admin_client):
    WebhookEventFactory.create_batch(3, body=b'{"big": "' + b"x" * 10_000 + b'"}')
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(CHANGELIST).status_code == 200
    WebhookEventFactory.create_batch(40)
    with CaptureQueriesContext(connection) as many:
        listing = admin_client.get(CHANGELIST).content.decode()

    assert len(many) == len(few)
    rows_query = next(q["sql"] for q in many.captured_queries if "dedupe_key" in q["sql"])
    assert '"body"' not in rows_query
    assert listing.count('class="action-select"') == 43


def test_export_from_the_list_still_carries_payloads_without_a_query_per_event(admin_client):
    events = WebhookEventFactory.create_batch(5, body=b'{"n": 1}')

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(CHANGELIST, {"action": "export_json", "_selected_action": [e.pk for e in events]})

    assert [row["payload"] for row in json.loads(response.content)] == [{"n": 1}] * 5
    assert sum('"body"' in q["sql"] for q in queries.captured_queries) == 1

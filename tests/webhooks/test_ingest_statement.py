"""Ingest's INSERT writes the columns every new event starts with into the statement itself
(config/db/insert.py, for webhooks/ingest.py): those must be the model's own defaults, and no default
that differs per call (a time) may be frozen into it."""

import pytest
from django.db import connection

from webhooks.ingest import initial_columns
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("worker_mode")]

DEFAULTED = ("processed_at", "status", "status_reason", "changed_fields", "drift", "actor_id", "actor_type",
             "attempts", "payload_purged_at")  # fmt: skip


def test_a_stored_event_starts_with_the_models_defaults(post_webhook, timely_fixture):
    response = post_webhook("timely", timely_fixture("contact.created"))

    stored = WebhookEvent.objects.values(*DEFAULTED).get(pk=response.json()["event"])
    fresh = WebhookEvent()
    assert stored == {name: getattr(fresh, name) for name in DEFAULTED}


def test_a_default_that_differs_per_call_is_never_frozen_into_the_statement():
    # received_at defaults to the time of the call: ingest must set it, or every event would get the first.
    with pytest.raises(TypeError, match="received_at"):
        initial_columns(("provider", "dedupe_key"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_ingest_prepares_its_insert_once_per_connection_and_stores_the_same(post_webhook, timely_fixture, settings):
    if settings.DATABASES["default"]["OPTIONS"].get("prepare_threshold") is None:
        pytest.skip("DATABASE_PREPARED_STATEMENTS is off in this environment")
    for n in range(8):
        payload = timely_fixture("contact.updated")
        payload["event_id"] = f"evt_prepared_{n}"
        assert post_webhook("timely", payload).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f'INSERT INTO "{WebhookEvent._meta.db_table}"% WHERE NOT EXISTS %'],  # a delivery's, as received
        )
        assert cursor.fetchone()[0] == 1  # prepared once, then reused
    stored = WebhookEvent.objects.filter(event_id__startswith="evt_prepared_").order_by("event_id")
    assert [event.payload["event_id"] for event in stored] == [f"evt_prepared_{n}" for n in range(8)]
    kept = {(event.remote_addr, event.headers["Content-Type"]) for event in stored}
    assert kept == {("127.0.0.1", "application/json")}

"""Ingest's INSERT writes the columns every new event starts with into the statement itself
(webhooks/ingest.py): those must be the model's own defaults, and no default that differs per call (a time)
may be frozen into it."""

import pytest

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

"""The worker path stays lean: applying one event costs a handful of queries, whatever the database."""

import pytest
from django.utils import timezone

from tests.conftest import encode
from tests.factories import WebhookEventFactory
from tests.webhooks.timely_payloads import created, updated
from webhooks.models import WebhookEventStatus
from webhooks.processing import process_event

pytestmark = pytest.mark.django_db


def stored(payload: dict, event_type: str):
    return WebhookEventFactory(
        dedupe_key=payload["event_id"],
        external_id=payload["data"]["contact_id"],
        event_type=event_type,
        occurred_at=timezone.now(),
        body=encode(payload),
    )


def test_an_update_of_a_known_contact_takes_at_most_seven_queries(django_assert_max_num_queries):
    process_event(stored(created(event_id="evt_c", contact_id="cont_1", seconds=0), "contact.created").pk)
    update = stored(
        updated(event_id="evt_u", contact_id="cont_1", seconds=5, changes={"name": "Ana"}), "contact.updated"
    )

    # Savepoint, contact lock (PostgreSQL), event, contact row lock, contact, event, release.
    with django_assert_max_num_queries(7):
        assert process_event(update.pk) == WebhookEventStatus.PROCESSED


def test_a_copy_of_an_applied_event_takes_at_most_four_queries(django_assert_max_num_queries):
    event = stored(created(event_id="evt_c", contact_id="cont_1", seconds=0), "contact.created")
    process_event(event.pk)

    with django_assert_max_num_queries(4):
        assert process_event(event.pk) == WebhookEventStatus.PROCESSED

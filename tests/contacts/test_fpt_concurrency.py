"""Concurrent processing of one FPT contact's events (PostgreSQL: real row locks and a real race)."""

import json
import threading

import pytest
from django.db import connection

from contacts.models import Contact
from tests.contacts.fpt_events import fpt_event, status_change, sub_group_change
from tests.factories import WebhookEventFactory
from webhooks.models import WebhookEventStatus
from webhooks.processing import process_events
from webhooks.providers import get_provider


def stored(payload):
    delivery = get_provider("fpt").parse(json.dumps(payload).encode())
    return WebhookEventFactory(
        provider="fpt", dedupe_key=delivery.dedupe_key, event_id=delivery.event_id, event_type=delivery.event_type,
        account_id=delivery.account_id, external_id=delivery.external_id, occurred_at=delivery.occurred_at,
        body=json.dumps(payload).encode(), signature_form="fpt-v1",
    )  # fmt: skip


def process_all_at_once(event_pks):
    barrier = threading.Barrier(len(event_pks))
    results = {}

    def work(pk):
        try:
            barrier.wait(timeout=10)
            results[pk] = process_events([pk])[pk]
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in event_pks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_events_of_an_unknown_contact_make_one_contact_with_every_change():
    events = [
        stored(fpt_event("contact.created", at=0)),
        stored(status_change(3, at=2)),
        stored(sub_group_change(5521, at=3)),
        stored(fpt_event("contact.updated", at=4)),
    ]
    results = process_all_at_once([event.pk for event in events])
    assert set(results.values()) == {WebhookEventStatus.PROCESSED}
    contact = Contact.objects.get(provider="fpt", account_id="48213", external_id="9917342")
    assert (contact.status_id, contact.status, contact.sub_group_id, contact.needs_refresh) == (
        3, "Members", "5521", True
    )  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_out_of_order_status_changes_converge_to_the_newest():
    events = [stored(status_change(status, at=status)) for status in (1, 2, 3, 4, 5)]
    process_all_at_once([event.pk for event in reversed(events)])
    contact = Contact.objects.get(provider="fpt", account_id="48213", external_id="9917342")
    assert (contact.status_id, contact.status) == (5, "Non-members")

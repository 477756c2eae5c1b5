"""The event table leaves room on each page for in-place rewrites (erasure's redaction, the payload
purge): PostgreSQL then keeps the new row version on its page (HOT) instead of indexing it anew."""

import pytest
from django.db import connection

from contacts.services import erase_on_request
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_event_table_keeps_a_tenth_of_each_page_free():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'webhooks_webhookevent'")
        (options,) = cursor.fetchone()
    assert options == ["fillfactor=90"]


def test_an_erasure_rewrites_its_payloads_in_place():
    """A contact's deliveries arrive among everyone else's, so its rows sit on full pages: with the free
    tenth each redacted payload stays on its page (with full pages, none did)."""
    contact = ContactFactory(provider="timely", account_id="ws_abc123", external_id="cont_hot")
    rows = []
    for _ in range(20):
        rows += WebhookEventFactory.build_batch(15)  # other contacts' deliveries in between
        rows.append(WebhookEventFactory.build(external_id="cont_hot"))
    WebhookEvent.objects.bulk_create(rows)
    before = updates_in_this_transaction()

    erase_on_request(contact=contact, requested_by="test", requested_by_type="cli", reference="DSR-1")

    updated, in_place = (after - earlier for after, earlier in zip(updates_in_this_transaction(), before, strict=True))
    assert updated == 20 and in_place == 20


def updates_in_this_transaction() -> tuple[int, int]:
    """Row updates of the event table so far in this transaction, and how many of them stayed on their
    page (HOT): the transaction's own counters, not the statistics collector's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'webhooks_webhookevent'"
        )
        return cursor.fetchone()

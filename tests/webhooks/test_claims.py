"""Claims on a real PostgreSQL, two connections at once (threads): a worker never waits for another
worker's contacts, and an erasure never deadlocks with a worker's claim: it waits for the contact's lock,
not for the event rows, and both finish."""

import threading

import pytest
from django.db import connection, transaction

from contacts.models import Contact, ErasureRecord
from contacts.services import erase_on_request
from tests.factories import ContactFactory
from tests.webhooks.test_retries_and_due_events import stored
from tests.webhooks.timely_payloads import created, updated
from webhooks.claims import claim_due_events
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.processing import apply_batch, process_due_batch

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("erasure_log_cleanup"),
]


class HeldClaim(threading.Thread):
    """A worker that claims a batch and holds it (its transaction open) until released."""

    def __init__(self, size: int):
        super().__init__(daemon=True)
        self.size, self.claimed, self.ready, self.release = size, [], threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                self.claimed = claim_due_events(size=self.size)
                self.ready.set()
                self.release.wait(timeout=30)
                apply_batch(self.claimed)
        finally:
            self.ready.set()
            connection.close()


def test_a_second_worker_takes_other_contacts_instead_of_waiting_for_the_first():
    for n in range(6):
        stored(created(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=0, name=f"Pessoa {n}"))
    first = HeldClaim(size=3)
    first.start()
    assert first.ready.wait(timeout=30)

    second = process_due_batch(size=3)  # would hang here if it waited for the first worker's contacts

    first.release.set()
    first.join(timeout=30)
    assert {e.external_id for e in first.claimed}.isdisjoint({e.external_id for e in second})
    assert len(first.claimed) == len(second) == 3
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEventStatus.PROCESSED}


def test_an_erasure_on_request_waits_for_the_workers_batch_of_that_contact_and_both_finish():
    contact = ContactFactory(external_id="cont_1", name="Ana Costa")
    for n in range(3):
        stored(updated(event_id=f"evt_{n}", contact_id="cont_1", seconds=n + 1, changes={"tags": [str(n)]}))
    worker = HeldClaim(size=10)
    worker.start()
    assert worker.ready.wait(timeout=30) and len(worker.claimed) == 3

    erasure_done = threading.Event()
    errors = []

    def erase():
        try:
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            erasure_done.set()
            connection.close()

    eraser = threading.Thread(target=erase, daemon=True)
    eraser.start()
    assert not erasure_done.wait(timeout=1)  # waiting for the contact's lock, holding no event row
    worker.release.set()
    worker.join(timeout=30)
    assert erasure_done.wait(timeout=30)

    assert errors == []
    contact.refresh_from_db()
    assert contact.erased_at is not None and contact.name == "" and contact.tags == []
    assert ErasureRecord.objects.count() == 1
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEventStatus.PROCESSED}
    assert not WebhookEvent.objects.filter(redacted_at__isnull=True).exists()
    assert Contact.objects.count() == 1

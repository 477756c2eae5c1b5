"""Deliveries that race: real threads, each with its own PostgreSQL connection, through the real endpoint.

Each thread posts through its own test client; inline processing applies the event right after the
request's commit, so storing and applying race exactly as under a multi-worker server.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.test import Client

from contacts.models import Contact, ErasureRecord
from tests.conftest import encode, timely_headers
from tests.webhooks.timely_payloads import created, deleted, updated
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.signals import contact_events

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("erasure_log_cleanup"),
]


def post_in_parallel(payloads: list[dict]) -> list[dict]:
    """POST every payload from its own thread, all released at once; returns the JSON answers in order."""
    barrier = threading.Barrier(len(payloads))

    def post(payload):
        try:
            body = encode(payload)
            client = Client()
            barrier.wait(timeout=30)
            response = client.generic(
                "POST", "/webhooks/timely/", body, content_type="application/json", headers=timely_headers(body)
            )
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        answers = list(pool.map(post, payloads))
    assert [status for status, _body in answers] == [200] * len(payloads), answers
    return [body for _status, body in answers]


@pytest.fixture
def committed_applications():
    """Event references of every application that committed (a receiver counting beside the real one)."""
    applied, lock = [], threading.Lock()

    def count(sender, *, events, **kwargs):
        references = [event.dedupe_key for event in events]
        transaction.on_commit(lambda: _append(references))

    def _append(references):
        with lock:
            applied.extend(references)

    contact_events.connect(count, dispatch_uid="test.count_applications")
    yield applied
    contact_events.disconnect(dispatch_uid="test.count_applications")


def test_32_parallel_identical_deliveries_store_and_apply_once(committed_applications):
    payload = created(event_id="evt_same", contact_id="cont_1", seconds=0, name="Ana Costa")

    answers = post_in_parallel([payload] * 32)

    event = WebhookEvent.objects.get()
    assert sorted(answer["status"] for answer in answers) == ["accepted"] + ["duplicate"] * 31
    assert {answer["event"] for answer in answers} == {event.pk}
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.attempts == 1
    assert committed_applications == ["evt_same"]
    assert Contact.objects.get().name == "Ana Costa"


def test_30_parallel_updates_of_one_contact_leave_the_newest_value(committed_applications):
    updates = [
        updated(event_id=f"evt_{n:02d}", contact_id="cont_1", seconds=n, changes={"name": f"Name {n:02d}"})
        for n in range(1, 31)
    ]
    # Newest last in the list, so that thread start order does not happen to match time order.
    updates.reverse()

    answers = post_in_parallel(updates)

    assert [answer["status"] for answer in answers] == ["accepted"] * 30
    contact = Contact.objects.get()
    assert contact.name == "Name 30"
    assert contact.field_versions["name"][1] == "evt_30"
    assert sorted(committed_applications) == sorted(f"evt_{n:02d}" for n in range(1, 31))
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEventStatus.PROCESSED}
    changed = WebhookEvent.objects.filter(changed_fields=["name"]).count()
    stale = WebhookEvent.objects.filter(status_reason__contains="stale fields skipped: name").count()
    assert changed + stale == 30 and changed >= 1


def test_deletion_racing_with_updates_leaves_a_clean_tombstone():
    post_in_parallel([created(event_id="evt_created", contact_id="cont_1", seconds=0, name="Ana Costa")])
    racing = [
        updated(
            event_id=f"evt_upd_{n:02d}",
            contact_id="cont_1",
            seconds=n,
            changes={"name": f"Ana {n}", "email": f"ana{n}@exemplo.com.br", "tags": [f"t{n}"]},
        )
        for n in range(1, 16)
    ]
    racing.insert(7, deleted(event_id="evt_deleted", contact_id="cont_1", seconds=8))

    post_in_parallel(racing)

    contact = Contact.objects.get()
    assert contact.erased_at is not None
    assert (contact.name, contact.email, contact.phone, contact.tags, contact.custom_fields) == ("", "", "", [], {})
    assert contact.remote_updated_at is None
    assert list(contact.field_versions) == ["_deleted"]
    assert ErasureRecord.objects.count() == 1
    events = WebhookEvent.objects.all()
    assert WebhookEventStatus.FAILED not in {event.status for event in events}
    assert WebhookEventStatus.RECEIVED not in {event.status for event in events}
    for event in events:
        assert event.redacted_at is not None, event.event_id
        assert b"Ana" not in bytes(event.body)


def test_a_retry_racing_a_delivery_that_fell_back_to_insert_first_waits_and_never_deadlocks(monkeypatch):
    """A's apply-first attempt fails (transiently) and A goes the insert-first way; its copy B, a provider's
    retry, holds the contact's lock meanwhile. Both paths take the contact's lock before the event's INSERT,
    so A waits for B and finds B's row: one accepted, one duplicate; never a deadlock and a 503."""
    from contacts.services import sync
    from webhooks import ingest

    real_apply, real_insert, real_lock = sync.ContactBatch.apply, ingest.insert_event, ingest.lock_subjects
    a_failed, b_holds_lock = threading.Event(), threading.Event()
    failures = []

    def apply(batch, event):
        if threading.current_thread().name == "A" and not failures:
            failures.append(event.dedupe_key)
            a_failed.set()
            raise ValueError("transient, once")
        if threading.current_thread().name == "B":
            b_holds_lock.set()
            time.sleep(0.5)  # A's fallback starts meanwhile
        return real_apply(batch, event)

    def after_b_took_the_lock(real):
        def step(*args, **options):
            if threading.current_thread().name == "A" and failures:  # A's second attempt, whichever step first
                assert b_holds_lock.wait(10)
            return real(*args, **options)

        return step

    monkeypatch.setattr(sync.ContactBatch, "apply", apply)
    monkeypatch.setattr(ingest, "insert_event", after_b_took_the_lock(real_insert))
    monkeypatch.setattr(ingest, "lock_subjects", after_b_took_the_lock(real_lock))
    body = encode(created(event_id="evt_1", contact_id="cont_1", seconds=0, name="Ana Costa"))
    answers = {}

    def post(name):
        try:
            if name == "B":
                assert a_failed.wait(10)
            response = Client().generic(
                "POST", "/webhooks/timely/", body, content_type="application/json", headers=timely_headers(body)
            )
            answers[name] = (response.status_code, response.json().get("status"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(name,), name=name) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(answers.values()) == [(200, "accepted"), (200, "duplicate")], answers
    assert answers["B"] == (200, "accepted")
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"

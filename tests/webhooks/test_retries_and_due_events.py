"""The event log is the queue: a ``received`` event whose ``next_attempt_at`` has come is due. Failures:
transient ones make the event due again later (backoff), the last try or any other error marks it failed
(class and location only); a failing event is isolated from the rest of its batch; replays make events
due again; deletions are claimed first; whatever inline processing leaves behind, ``--once`` finishes."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from contacts.models import Contact, ErasureRecord
from contacts.services import refresh, sync
from tests.conftest import encode
from tests.factories import WebhookEventFactory
from tests.webhooks.timely_payloads import created, deleted
from webhooks.claims import claim_due_events
from webhooks.events import TransientError
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.processing import process_due_batch, process_events, retry_delay
from webhooks.replay import reprocess_events

pytestmark = pytest.mark.django_db


def stored(payload: dict) -> WebhookEvent:
    event_type = payload["event"]
    return WebhookEventFactory(
        dedupe_key=payload["event_id"],
        external_id=payload["data"]["contact_id"],
        event_type=event_type,
        erasure=event_type == "contact.deleted",
        occurred_at=timezone.now(),
        body=encode(payload),
    )


@pytest.fixture
def contact_created_event():
    return stored(created(event_id="evt_c1", contact_id="cont_1", seconds=0, name="Ana Costa"))


@pytest.fixture
def failing_application(monkeypatch):
    """Make applying the events whose dedupe key is in ``failing`` raise ``error``."""
    state = {"error": None, "failing": set()}
    real = sync.ContactBatch.apply

    def apply(batch, event):
        if state["error"] is not None and (not state["failing"] or event.dedupe_key in state["failing"]):
            raise state["error"]
        return real(batch, event)

    monkeypatch.setattr(sync.ContactBatch, "apply", apply)
    return state


def make_due(*events: WebhookEvent) -> None:
    WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_lost_database_connection_is_retried_later_with_backoff(contact_created_event, failing_application):
    failing_application["error"] = OperationalError("server closed the connection unexpectedly")
    before = timezone.now()

    assert process_events([contact_created_event.pk]) == {contact_created_event.pk: WebhookEventStatus.RECEIVED}

    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEventStatus.RECEIVED, 1)
    assert before + timedelta(seconds=15) <= event.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert event.status_reason.startswith("try 1 of 8 failed: django.db.utils.OperationalError at ")
    assert not Contact.objects.exists()


def test_a_retry_is_not_claimed_before_it_is_due_and_is_applied_once_it_is(
    contact_created_event, failing_application, run_worker_once
):
    failing_application["error"] = OperationalError("deadlock detected")
    process_events([contact_created_event.pk])
    failing_application["error"] = None

    assert run_worker_once() == 0
    assert WebhookEvent.objects.get().status == WebhookEventStatus.RECEIVED

    make_due(contact_created_event)
    assert run_worker_once() == 1

    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.next_attempt_at) == (WebhookEventStatus.PROCESSED, 2, None)
    assert Contact.objects.get().name == "Ana Costa"


def test_after_the_last_try_the_event_is_failed_with_class_and_location(
    settings, contact_created_event, failing_application, run_worker_once
):
    settings.WEBHOOK_RETRY_MAX_ATTEMPTS = 3
    failing_application["error"] = OperationalError("connection refused")
    for _ in range(3):
        make_due(contact_created_event)
        run_worker_once()

    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.next_attempt_at) == (WebhookEventStatus.FAILED, 3, None)
    assert event.processed_at is not None
    assert event.status_reason.startswith("django.db.utils.OperationalError at ")
    assert "connection refused" not in event.status_reason


def test_an_error_that_is_not_transient_fails_at_once_without_its_message(contact_created_event, failing_application):
    failing_application["error"] = ValueError("Ana Costa +5547991234567")

    assert process_events([contact_created_event.pk]) == {contact_created_event.pk: WebhookEventStatus.FAILED}

    event = WebhookEvent.objects.get()
    assert event.attempts == 1
    assert event.status_reason.startswith("builtins.ValueError at ")
    assert "Ana" not in event.status_reason and "5547" not in event.status_reason


def test_a_provider_marked_transient_error_is_retried_and_its_safe_message_kept(
    contact_created_event, failing_application
):
    failing_application["error"] = TransientError("fpt API answered 503")
    process_events([contact_created_event.pk])

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.RECEIVED
    assert "webhooks.events.TransientError: fpt API answered 503" in event.status_reason


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 20])
def test_backoff_doubles_with_jitter_and_is_capped(settings, attempt):
    settings.WEBHOOK_RETRY_BACKOFF_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_BACKOFF_SECONDS = 3600
    ceiling = min(3600, 30 * 2 ** (attempt - 1))
    delays = [retry_delay(attempt) for _ in range(50)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1


def test_a_failing_event_is_isolated_and_the_rest_of_its_batch_commits(failing_application):
    events = [
        stored(created(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=0, name=f"Pessoa {n}")) for n in range(5)
    ]
    failing_application.update(error=ValueError("bad value"), failing={"evt_2"})

    with transaction.atomic():
        done = process_due_batch(size=10)

    assert sorted(e.pk for e in done) == sorted(e.pk for e in events)
    statuses = dict(WebhookEvent.objects.values_list("dedupe_key", "status"))
    assert statuses == {
        "evt_0": "processed", "evt_1": "processed", "evt_2": "failed", "evt_3": "processed", "evt_4": "processed"
    }  # fmt: skip
    assert sorted(Contact.objects.values_list("name", flat=True)) == ["Pessoa 0", "Pessoa 1", "Pessoa 3", "Pessoa 4"]


def test_a_failure_no_event_can_be_blamed_for_is_found_one_event_at_a_time(monkeypatch):
    """A set-based write that fails names no event: the batch is applied again one event per savepoint,
    and only the event that makes the write fail is kept back (for a retry: an IntegrityError passes)."""
    for n in range(4):
        stored(created(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=0, name=f"Pessoa {n}"))
    real_write = sync.ContactBatch.write

    def write(batch):
        if "cont_1" in {subject[2] for subject in batch.new}:
            raise IntegrityError("duplicate key value violates unique constraint")
        real_write(batch)

    monkeypatch.setattr(sync.ContactBatch, "write", write)

    process_due_batch(size=10)

    statuses = dict(WebhookEvent.objects.values_list("dedupe_key", "status"))
    assert statuses == {"evt_0": "processed", "evt_1": "received", "evt_2": "processed", "evt_3": "processed"}
    assert WebhookEvent.objects.get(dedupe_key="evt_1").status_reason.startswith(
        "try 1 of 8 failed: django.db.utils.IntegrityError"
    )
    assert Contact.objects.count() == 3


def test_deletions_are_claimed_before_a_backlog():
    for n in range(30):
        stored(created(event_id=f"evt_{n}", contact_id=f"cont_{n}", seconds=0))
    deletion = stored(deleted(event_id="evt_del", contact_id="cont_0", seconds=5))

    with transaction.atomic():
        claimed = claim_due_events(size=10)

    assert claimed[0].pk == deletion.pk
    assert len(claimed) == 10


def test_events_not_yet_due_or_no_longer_received_are_not_claimed():
    due = stored(created(event_id="evt_due", contact_id="cont_1", seconds=0))
    later = stored(created(event_id="evt_later", contact_id="cont_2", seconds=0))
    WebhookEvent.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    stored(created(event_id="evt_done", contact_id="cont_3", seconds=0))
    WebhookEvent.objects.filter(dedupe_key="evt_done").update(status=WebhookEventStatus.PROCESSED)

    with transaction.atomic():
        assert [event.pk for event in claim_due_events(size=10)] == [due.pk]


def test_replay_inline_applies_at_once_and_keeps_counting_attempts(contact_created_event):
    WebhookEvent.objects.update(
        status=WebhookEventStatus.FAILED, attempts=8, status_reason="django.db.utils.OperationalError at x",
        next_attempt_at=None,
    )  # fmt: skip

    reprocess_events(WebhookEvent.objects.all())

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PROCESSED
    assert (event.attempts, event.next_attempt_at, event.status_reason) == (9, None, "")


def test_replay_with_workers_makes_the_event_due_for_the_next_batch(
    worker_mode, contact_created_event, run_worker_once
):
    WebhookEvent.objects.update(status=WebhookEventStatus.FAILED, attempts=8, next_attempt_at=None)

    reprocess_events(WebhookEvent.objects.all())

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.RECEIVED and event.next_attempt_at <= timezone.now()
    assert run_worker_once() == 1
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED


def test_inline_processing_that_cannot_reach_the_database_still_answers_accepted_and_once_recovers(
    post_webhook, monkeypatch, run_worker_once
):
    def database_gone(events, **options):
        raise OperationalError("connection refused")

    monkeypatch.setattr("webhooks.processing.applied_outcomes", database_gone)
    response = post_webhook("timely", created(event_id="evt_1", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.status_code == 200 and response.json()["status"] == "accepted"
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEventStatus.RECEIVED, 0)
    assert event.next_attempt_at <= timezone.now()

    monkeypatch.undo()
    assert run_worker_once() == 1
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"


def test_a_transiently_failed_inline_deletion_still_ends_in_an_erasure(
    post_webhook, failing_application, run_worker_once
):
    post_webhook("timely", created(event_id="evt_c", contact_id="cont_1", seconds=0, name="Ana Costa"))
    failing_application.update(error=OperationalError("deadlock detected"), failing={"evt_d"})

    assert post_webhook("timely", deleted(event_id="evt_d", contact_id="cont_1", seconds=5)).status_code == 200
    deletion = WebhookEvent.objects.get(dedupe_key="evt_d")
    assert (deletion.status, deletion.attempts) == (WebhookEventStatus.RECEIVED, 1)
    assert Contact.objects.get().name == "Ana Costa" and not ErasureRecord.objects.exists()

    failing_application["error"] = None
    make_due(deletion)
    assert run_worker_once() == 1

    contact = Contact.objects.get()
    assert contact.erased_at is not None and contact.name == ""
    assert ErasureRecord.objects.get().event_id == "evt_d"
    assert not WebhookEvent.objects.filter(redacted_at__isnull=True).exists()


def test_a_failing_look_up_after_commit_does_not_break_processing(fake_fetcher, monkeypatch, post_webhook):
    from tests.contacts.fpt_events import fpt_event

    def database_gone(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(refresh, "refresh_contact", database_gone)
    assert post_webhook("fpt", fpt_event("contact.updated")).status_code == 200

    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().needs_refresh is True

"""Failures while applying: transient ones are retried with backoff, the last try or any other error marks
the event failed (class and location only), lost tasks are swept up, replays start a fresh round."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db.models import DBTaskResult

from contacts.models import Contact
from tests.conftest import encode
from tests.factories import WebhookEventFactory
from tests.webhooks.timely_payloads import created
from webhooks.events import TransientError
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.processing import process_event, retry_delay
from webhooks.replay import reprocess_events, sweep_stuck_events

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "config.tasks.DatabaseBackend"}}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def contact_created_event():
    payload = created(event_id="evt_c1", contact_id="cont_1", seconds=0, name="Ana Costa")
    return WebhookEventFactory(
        dedupe_key="evt_c1",
        external_id="cont_1",
        event_type="contact.created",
        occurred_at=timezone.now(),
        body=encode(payload),
    )


@pytest.fixture
def failing_application(monkeypatch):
    """Make applying the event raise the error the test sets (None: apply normally)."""
    from contacts import receivers

    real = receivers.apply_contact_event
    state = {"error": None}

    def apply(*, event):
        if state["error"] is not None:
            raise state["error"]
        return real(event=event)

    monkeypatch.setattr(receivers, "apply_contact_event", apply)
    return state


def make_due(event: WebhookEvent) -> None:
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_lost_database_connection_is_retried_later_with_backoff(
    database_tasks, contact_created_event, failing_application, django_capture_on_commit_callbacks
):
    failing_application["error"] = OperationalError("server closed the connection unexpectedly")
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        status = process_event(contact_created_event.pk)

    event = WebhookEvent.objects.get()
    assert status == event.status == WebhookEventStatus.RECEIVED
    assert event.attempts == 1
    assert before + timedelta(seconds=15) <= event.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    assert event.status_reason.startswith("try 1 of 8 failed: django.db.utils.OperationalError at ")
    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs == {"args": [event.pk], "kwargs": {}}
    assert retry.run_after == event.next_attempt_at
    assert not Contact.objects.exists()


def test_retry_once_due_applies_the_event(
    database_tasks, contact_created_event, failing_application, django_capture_on_commit_callbacks
):
    failing_application["error"] = OperationalError("deadlock detected")
    with django_capture_on_commit_callbacks(execute=True):
        process_event(contact_created_event.pk)
    failing_application["error"] = None
    make_due(contact_created_event)

    assert process_event(contact_created_event.pk) == WebhookEventStatus.PROCESSED

    event = WebhookEvent.objects.get()
    assert (event.attempts, event.next_attempt_at) == (2, None)
    assert Contact.objects.get().name == "Ana Costa"


def test_a_copy_of_the_task_before_the_retry_is_due_does_nothing(
    database_tasks, contact_created_event, failing_application, django_capture_on_commit_callbacks
):
    failing_application["error"] = OperationalError("deadlock detected")
    with django_capture_on_commit_callbacks(execute=True):
        process_event(contact_created_event.pk)
    failing_application["error"] = None

    assert process_event(contact_created_event.pk) == "not due"

    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEventStatus.RECEIVED, 1)
    assert not Contact.objects.exists()


def test_after_the_last_try_the_event_is_failed_with_class_and_location(
    settings, database_tasks, contact_created_event, failing_application, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_MAX_ATTEMPTS = 3
    failing_application["error"] = OperationalError("connection refused")
    for _ in range(3):
        make_due(contact_created_event)
        with django_capture_on_commit_callbacks(execute=True):
            process_event(contact_created_event.pk)

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.FAILED
    assert event.attempts == 3
    assert event.next_attempt_at is None
    assert event.processed_at is not None
    assert event.status_reason.startswith("django.db.utils.OperationalError at ")
    assert "connection refused" not in event.status_reason
    assert DBTaskResult.objects.count() == 2  # two retries scheduled, none after the last try


def test_an_error_that_is_not_transient_fails_at_once_without_its_message(contact_created_event, failing_application):
    failing_application["error"] = ValueError("Ana Costa +5547991234567")

    assert process_event(contact_created_event.pk) == WebhookEventStatus.FAILED

    event = WebhookEvent.objects.get()
    assert event.attempts == 1
    assert event.status_reason.startswith("builtins.ValueError at ")
    assert "Ana" not in event.status_reason and "5547" not in event.status_reason


def test_a_provider_marked_transient_error_is_retried_and_its_safe_message_kept(
    database_tasks, contact_created_event, failing_application, django_capture_on_commit_callbacks
):
    failing_application["error"] = TransientError("fpt API answered 503")
    with django_capture_on_commit_callbacks(execute=True):
        process_event(contact_created_event.pk)

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.RECEIVED
    assert "webhooks.events.TransientError: fpt API answered 503" in event.status_reason
    assert DBTaskResult.objects.count() == 1


def test_immediate_backend_leaves_the_retry_to_the_sweep(
    contact_created_event, failing_application, django_capture_on_commit_callbacks
):
    failing_application["error"] = OperationalError("connection refused")
    with django_capture_on_commit_callbacks(execute=True):
        process_event(contact_created_event.pk)
    failing_application["error"] = None
    assert WebhookEvent.objects.get().status == WebhookEventStatus.RECEIVED

    # Not swept while the retry is not overdue...
    assert sweep_stuck_events(older_than=timedelta(seconds=60)) == []
    # ...and applied by the sweep once it is.
    WebhookEvent.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_stuck_events(older_than=timedelta(seconds=60)) == [contact_created_event.pk]

    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 20])
def test_backoff_doubles_with_jitter_and_is_capped(settings, attempt):
    settings.WEBHOOK_RETRY_BACKOFF_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_BACKOFF_SECONDS = 3600
    ceiling = min(3600, 30 * 2 ** (attempt - 1))
    delays = [retry_delay(attempt) for _ in range(50)]
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1


def test_sweep_enqueues_only_events_received_too_long_ago(database_tasks, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(minutes=30)
    stuck = WebhookEventFactory(received_at=long_ago)
    WebhookEventFactory()  # just arrived: its own task is on the way
    WebhookEventFactory(received_at=long_ago, status=WebhookEventStatus.PROCESSED)
    WebhookEventFactory(received_at=long_ago, next_attempt_at=timezone.now() + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_stuck_webhook_events", "--older-than", "600")

    assert [task.args_kwargs["args"] for task in DBTaskResult.objects.all()] == [[stuck.pk]]
    # Stamped as due now: the next sweep leaves it alone until it is overdue again.
    assert sweep_stuck_events(older_than=timedelta(seconds=600)) == []


def test_sweep_command_reports_what_it_enqueued(database_tasks, capsys):
    WebhookEventFactory(received_at=timezone.now() - timedelta(hours=1))
    call_command("sweep_stuck_webhook_events", "--older-than", "60")
    assert "Re-enqueued 1 stuck event(s)" in capsys.readouterr().out


def test_replay_clears_a_pending_retry_and_keeps_counting_attempts(
    contact_created_event, django_capture_on_commit_callbacks
):
    WebhookEvent.objects.update(
        status=WebhookEventStatus.FAILED, attempts=8, status_reason="django.db.utils.OperationalError at x",
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        reprocess_events(WebhookEvent.objects.all())

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.PROCESSED
    assert (event.attempts, event.next_attempt_at, event.status_reason) == (9, None, "")


def test_failed_enqueue_after_commit_still_answers_accepted_and_the_sweep_recovers(
    post_webhook, monkeypatch, django_capture_on_commit_callbacks
):
    def database_gone(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(ImmediateBackend, "enqueue", database_gone)
    response = post_webhook("timely", created(event_id="evt_1", contact_id="cont_1", seconds=0, name="Ana Costa"))

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert WebhookEvent.objects.get().status == WebhookEventStatus.RECEIVED

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_stuck_webhook_events", "--older-than", "0")
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().name == "Ana Costa"


def test_a_failing_look_up_enqueue_after_commit_does_not_break_processing_or_later_hooks(
    database_tasks, fake_fetcher, monkeypatch, django_capture_on_commit_callbacks
):
    """Robust on-commit hooks must be callables with a ``__qualname__`` (Django logs it when they fail)."""
    from contacts import tasks as contact_tasks
    from tests.contacts.fpt_events import fpt_event

    def database_gone(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(contact_tasks, "enqueue_refresh", database_gone)
    payload = fpt_event("contact.updated")
    event = WebhookEventFactory(
        provider="fpt",
        dedupe_key=payload["eventId"],
        event_type="contact.updated",
        account_id=str(payload["locationId"]),
        external_id=str(payload["data"]["contactId"]),
        occurred_at=timezone.now(),
        body=encode(payload),
    )

    with django_capture_on_commit_callbacks(execute=True):
        status = process_event(event.pk)

    assert status == WebhookEventStatus.PROCESSED
    assert Contact.objects.get().needs_refresh is True

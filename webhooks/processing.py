"""Applying a stored event: the provider interprets it, the ``contact_event`` signal carries it to
receivers, and the event row records the outcome, all in one transaction (dj-stripe's split: the
request is not atomic, processing is).

Concurrency: every application about one contact runs under a transaction-level advisory lock on that
contact (PostgreSQL), taken before anything else, so two workers take turns and the status check sees
the other's commit. The event row itself is not locked while applying: an erasure redacts the contact's
other event rows, and a processor holding one of them while waiting for the contact would deadlock it.

Failures: a transient one (lost connection, deadlock, a provider's ``TransientError``) is retried with
exponential backoff while the event stays ``received``; any other, or the last try, marks it ``failed``
with the error's class and location.
"""

import logging
import random
import traceback
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from config.log_context import logged_as_event
from config.metrics import record_processed
from config.sql import get_row, update_row
from webhooks.events import ContactEvent, Outcome, OutcomeStatus, ProcessingError, TransientError
from webhooks.models import ErasedSubject, WebhookEvent, WebhookEventStatus
from webhooks.providers import get_provider
from webhooks.providers.base import Delivery, Ignore
from webhooks.signals import contact_event

logger = logging.getLogger(__name__)

RETRYABLE_ERRORS = (OperationalError, InterfaceError, TransientError)
# Namespace of the per-contact advisory locks (the two-integer form: apart from single-key locks).
CONTACT_LOCK_NAMESPACE = 0x63726D
# A copy of the task arriving this much before a scheduled retry is still run (clocks differ a little).
CLOCK_TOLERANCE = timedelta(seconds=5)
NOT_DUE = "not due"
# The model's own table name is the only thing formatted in.
LOCK_EVENT_SUBJECT_SQL = (
    "SELECT pg_advisory_xact_lock(%s, hashtext(provider || '/' || account_id || '/' || external_id)) "  # noqa: S608
    f"FROM {WebhookEvent._meta.db_table} WHERE id = %s"
)


@logged_as_event
def process_event(event_pk: int) -> str:
    """Apply one event once. Returns the resulting status. Safe to call again, from any number of
    workers: an event that is no longer ``received`` is left alone."""
    try:
        with transaction.atomic():
            lock_event_subject(event_pk)
            event = get_row(WebhookEvent, pk=event_pk)
            if event is None:
                raise WebhookEvent.DoesNotExist
            if event.status != WebhookEventStatus.RECEIVED:
                return event.status
            if event.next_attempt_at and event.next_attempt_at > timezone.now() + CLOCK_TOLERANCE:
                # A retry is scheduled for later and this is an extra copy of the task (a sweep's).
                return NOT_DUE
            outcome, contact_change = _apply(event)
            event.status = outcome.status
            event.status_reason = outcome.reason
            event.changed_fields = list(outcome.changed)
            event.drift = list(outcome.drift)
            event.attempts += 1
            event.next_attempt_at = None
            event.processed_at = timezone.now()
            fields = [
                "status",
                "status_reason",
                "changed_fields",
                "drift",
                "attempts",
                "next_attempt_at",
                "processed_at",
            ]
            if contact_change is not None and contact_change.actor_id:
                event.actor_id, event.actor_type = contact_change.actor_id, contact_change.actor_type
                fields += ["actor_id", "actor_type"]
            if outcome.subject_erased and event.redacted_at is None and event.body is not None:
                # Arrived while the contact was being erased: redact now instead.
                event.body = get_provider(event.provider).redacted_body(event.payload)
                event.redacted_at = event.processed_at
                fields += ["body", "redacted_at"]
            update_row(event, fields)
            transaction.on_commit(partial(record_processed, event.provider, event.status))
    except WebhookEvent.DoesNotExist:
        logger.warning("webhook event %s no longer exists", event_pk)
        return "missing"
    except Exception as exc:  # noqa: BLE001  (every failure is recorded, none is lost)
        return record_failure(event_pk, exc)
    logger.info("webhook event %s %s", event_pk, event.status)
    return event.status


def lock_event_subject(event_pk: int) -> None:
    """Take the transaction-level lock of the event's contact (PostgreSQL; SQLite has one writer).

    Keyed by provider, account and contact id read from the event row, which never change."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(LOCK_EVENT_SUBJECT_SQL, [CONTACT_LOCK_NAMESPACE, event_pk])


def record_failure(event_pk: int, exc: Exception) -> str:
    """Schedule a retry of a transient failure, or mark the event ``failed`` after the last try.

    When even that cannot be written (the database is gone), the event stays ``received`` and the stuck
    event sweep finds it; the error is raised without its cause, whose message could quote data."""
    reason = describe_failure(exc)
    now = timezone.now()
    if not connection.in_atomic_block:
        # A connection the failure broke (server restarted, network cut) is replaced, not reused.
        connection.close_if_unusable_or_obsolete()
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().only("provider", "status", "attempts").get(pk=event_pk)
            if event.status != WebhookEventStatus.RECEIVED:
                return event.status  # another copy of the task finished it meanwhile
            attempts = event.attempts + 1
            max_attempts = settings.WEBHOOK_RETRY_MAX_ATTEMPTS
            if isinstance(exc, RETRYABLE_ERRORS) and attempts < max_attempts:
                due = now + timedelta(seconds=retry_delay(attempts))
                WebhookEvent.objects.filter(pk=event_pk).update(
                    attempts=attempts,
                    next_attempt_at=due,
                    status_reason=f"try {attempts} of {max_attempts} failed: {reason}",
                )
                transaction.on_commit(lambda: schedule_retry(event_pk, due), robust=True)
                logger.warning("webhook event %s try %s failed (%s), retry at %s", event_pk, attempts, reason, due)
                return WebhookEventStatus.RECEIVED
            WebhookEvent.objects.filter(pk=event_pk).update(
                status=WebhookEventStatus.FAILED,
                status_reason=reason,
                attempts=attempts,
                next_attempt_at=None,
                processed_at=now,
            )
            transaction.on_commit(partial(record_processed, event.provider, WebhookEventStatus.FAILED))
    except WebhookEvent.DoesNotExist:
        return "missing"
    except DatabaseError as db_error:
        logger.error("webhook event %s failed (%s) and the failure could not be recorded", event_pk, reason)
        raise db_error from None
    logger.error("webhook event %s failed: %s", event_pk, reason)
    return WebhookEventStatus.FAILED


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: about base × 2^(attempt-1) seconds, capped."""
    delay = min(settings.WEBHOOK_RETRY_MAX_BACKOFF_SECONDS, settings.WEBHOOK_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311  (spreading retries, not secrecy)


def schedule_retry(event_pk: int, due: datetime) -> None:
    """Enqueue the retry to run at ``due``. The immediate backend cannot wait: the sweep retries the
    event once it is due (``sweep_stuck_webhook_events``)."""
    from webhooks.tasks import process_webhook_event

    if process_webhook_event.get_backend().supports_defer:
        process_webhook_event.using(run_after=due).enqueue(event_pk)


def _apply(event: WebhookEvent) -> tuple[Outcome, ContactEvent | None]:
    if event.body is None:
        return Outcome(status=OutcomeStatus.IGNORED, reason="payload was purged before processing"), None
    provider = get_provider(event.provider)
    delivery = Delivery(
        dedupe_key=event.dedupe_key,
        event_id=event.event_id,
        event_type=event.event_type,
        account_id=event.account_id,
        external_id=event.external_id,
        occurred_at=event.occurred_at,
        payload=event.payload,
    )
    verdict = provider.interpret(delivery)
    if isinstance(verdict, Ignore):
        # Stored as received because its contact's erasure had not committed yet: redacted now.
        erased = bool(event.external_id) and event.redacted_at is None and subject_is_erased(event)
        return Outcome(status=OutcomeStatus.IGNORED, reason=verdict.reason, subject_erased=erased), None
    return dispatch(verdict), verdict


def subject_is_erased(event: WebhookEvent) -> bool:
    return ErasedSubject.objects.filter(
        provider=event.provider, account_id=event.account_id, external_id=event.external_id
    ).exists()


def dispatch(contact_change: ContactEvent) -> Outcome:
    outcomes = [
        response
        for _receiver, response in contact_event.send(sender=type(contact_change), event=contact_change)
        if isinstance(response, Outcome)
    ]
    if not outcomes:
        return Outcome(status=OutcomeStatus.IGNORED, reason="no receiver handled this event")
    if len(outcomes) == 1:
        return outcomes[0]
    processed = any(o.status == OutcomeStatus.PROCESSED for o in outcomes)
    return Outcome(
        status=OutcomeStatus.PROCESSED if processed else OutcomeStatus.IGNORED,
        reason="; ".join(o.reason for o in outcomes if o.reason),
        changed=tuple(sorted({name for o in outcomes for name in o.changed})),
        drift=tuple(sorted({name for o in outcomes for name in o.drift})),
        subject_erased=any(o.subject_erased for o in outcomes),
    )


def describe_failure(exc: BaseException) -> str:
    """The error class and where it was raised; the message only when it is known to hold no data."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, ProcessingError):
        return f"{name}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        return f"{name} at {Path(last.filename).name}:{last.lineno} in {last.name}"
    return name

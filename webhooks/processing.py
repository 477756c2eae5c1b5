"""Applying stored events, in batches: the provider interprets each event, one ``contact_events`` signal
carries the batch's normalized events to the receivers, and every event row records its outcome, all in
one transaction (dj-stripe's split: the request is not atomic, processing is).

The event log is the queue (docs/architecture.md › The queue): an event in status ``received`` whose
``next_attempt_at`` has come is due. ``process_due_batch`` (``webhook_worker``) claims a batch of due events
and applies it; ``process_events`` applies given events at once (inline mode, a replay).

Concurrency: a batch first takes the locks of the contacts its events are about (``config.db.locks``), then
locks those events' rows (``webhooks.claims``: how a worker claims a batch without waiting for another).

Failures: an event whose application raises is isolated by re-running the batch without it (one savepoint
per batch, none per event); a failure that cannot be pinned on one event (a set-based write) re-applies
that batch one event per savepoint. A transient failure (lost connection, deadlock, a provider's
``TransientError``) makes the event due again later (backoff, it stays ``received``); any other, or the
last try, marks it ``failed`` with the error's class and location.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from config.db.bulk import bulk_update_by_pk
from config.db.locks import lock_subjects_of, subjects_filter
from config.db.sqlite.writers import writer_turn
from config.ops.failures import backoff_seconds, describe_failure
from config.ops.log_context import log_context
from config.ops.metrics import observe_worker_batch, record_processed
from webhooks.bridge import BridgeMisconfigured
from webhooks.change_times import FUTURE_CHANGE_REASON, is_dated_in_the_future, sane_change_time
from webhooks.claims import UNREAD_FIELDS, claim_due_events
from webhooks.events import ContactEvent, EventFailed, Outcome, OutcomeStatus, TransientError
from webhooks.models import ErasedSubject, WebhookEvent, WebhookEventStatus
from webhooks.providers import get_provider
from webhooks.providers.base import Delivery, Ignore
from webhooks.rebuild import REBUILT_COLUMNS, rebuilt_columns
from webhooks.signals import contact_events

logger = logging.getLogger(__name__)

# IntegrityError: a contact created meanwhile by a writer that took no lock; the retry applies on top.
RETRYABLE_ERRORS = (OperationalError, InterfaceError, IntegrityError, TransientError)
EARLIEST = datetime.min.replace(tzinfo=UTC)
# After this many failing events in one batch, the rest is applied one event per savepoint.
MAX_RERUNS = 3
OUTCOME_FIELDS = (
    "status",
    "status_reason",
    "changed_fields",
    "drift",
    "attempts",
    "next_attempt_at",
    "processed_at",
    "actor_id",
    "actor_type",
)


def process_due_batch(*, size: int) -> list[WebhookEvent]:
    """Claim up to ``size`` due events and apply them in one transaction; returns the events done."""
    started = time.monotonic()
    with writer_turn(), transaction.atomic():
        events = claim_due_events(size=size)
        if events:
            apply_batch(events)
    if events:
        batch_finished(events)
        observe_worker_batch(len(events), time.monotonic() - started)
    return events


def process_events(event_pks: Iterable[int], *, chunk_size: int = 100) -> dict[int, str]:
    """Apply these events now, those still ``received`` (due or not), waiting for their contacts' locks:
    inline mode's own event, a replay. Returns each applied event's status. Never raises for an event's
    failure; a database that cannot be reached leaves the events due for the worker (logged).

    First without any savepoint (two round trips fewer: inline, most of a delivery's time is round
    trips); if anything fails, that transaction rolls back whole and the events are applied again the
    isolating way, which records each failure on its event."""
    event_pks = sorted(set(event_pks))
    statuses = {}
    for start in range(0, len(event_pks), chunk_size):
        chunk = event_pks[start : start + chunk_size]
        try:
            events = _apply_by_id(chunk, isolated=False)
        except Exception:  # noqa: BLE001  (rolled back; applied again below, failures recorded)
            try:
                events = _apply_by_id(chunk, isolated=True)
            except Exception as exc:  # noqa: BLE001  (logged without its message, which could quote data)
                # Rolled back whole: the events stay due, and the worker (or ``webhook_worker --once`` from
                # cron) applies them later.
                logger.error("webhook events %s not applied now (%s); they stay due", chunk, describe_failure(exc))
                continue
        if events:
            batch_finished(events)
        statuses.update((event.pk, event.status) for event in events)
    return statuses


def _apply_by_id(event_pks: list[int], *, isolated: bool) -> list[WebhookEvent]:
    with writer_turn(), transaction.atomic():
        lock_subjects_of(WebhookEvent, event_pks)
        pending = WebhookEvent.objects.filter(pk__in=event_pks, status=WebhookEventStatus.RECEIVED)
        events = list(pending.order_by("id").defer(*UNREAD_FIELDS).select_for_update())
        if events:
            apply_batch(events, isolated=isolated)
    return events


def apply_batch(events: list[WebhookEvent], *, isolated: bool = True) -> None:
    """Apply locked events and write every outcome (one statement), inside the caller's transaction.
    ``isolated=False``: no savepoint, and any failure propagates (the caller rolls back and retries)."""
    results, changes = applied_outcomes(events, isolated=isolated)
    record_outcomes(events, results, changes)


def applied_outcomes(
    events: list[WebhookEvent], *, isolated: bool, readings: list | None = None
) -> tuple[dict[int, Outcome | Exception], dict[int, ContactEvent]]:
    """Apply the events to their contacts: each event's outcome (or failure), and the change it carried.
    ``readings``: the events' ``reading`` already taken (inline: before the transaction)."""
    results: dict[int, Outcome | Exception] = {}
    changes: list[tuple[WebhookEvent, ContactEvent]] = []
    for event, verdict in zip(events, readings or map(reading, events), strict=True):
        if isinstance(verdict, Exception):
            results[event.pk] = verdict  # an event the provider cannot read fails alone
        elif isinstance(verdict, Outcome):
            results[event.pk] = verdict
        else:
            changes.append((event, verdict))
    mark_ignored_events_of_erased_contacts(events, results)
    # Each contact's events in the order they happened (ties by dedupe key): the in-order delivery.
    # (An event without a time sorts first; applying it fails alone.)
    changes.sort(key=lambda item: (item[1].changed_at or EARLIEST, item[1].dedupe_key))
    if isolated:
        results.update(apply_changes(changes))
    elif changes:
        results.update(
            (event.pk, outcome)
            for (event, _change), outcome in zip(changes, dispatch([change for _event, change in changes]), strict=True)
        )
    if not isolated and any(isinstance(result, Exception) for result in results.values()):
        raise next(result for result in results.values() if isinstance(result, Exception))
    return results, {event.pk: change for event, change in changes}


def apply_changes(changes: list[tuple[WebhookEvent, ContactEvent]]) -> dict[int, Outcome | Exception]:
    """Send the batch to the receivers in one savepoint. An event whose application raises is set aside
    and the rest re-run without it; a failure that names no event (a set-based write) falls back to one
    savepoint per event, which finds it."""
    results: dict[int, Outcome | Exception] = {}
    remaining = list(changes)
    reruns = 0
    while remaining:
        try:
            with transaction.atomic():
                outcomes = dispatch([change for _event, change in remaining])
        except EventFailed as failure:
            event, _change = remaining.pop(failure.index)
            results[event.pk] = failure.error
            reruns += 1
            if reruns < MAX_RERUNS:
                continue
        except Exception as exc:  # noqa: BLE001  (not pinned on an event: isolate them one by one)
            logger.warning("a batch write failed (%s): its events are applied one at a time", describe_failure(exc))
        else:
            results.update((event.pk, outcome) for (event, _change), outcome in zip(remaining, outcomes, strict=True))
            return results
        break
    for event, change in remaining:
        try:
            with transaction.atomic():
                results[event.pk] = dispatch([change])[0]
        except EventFailed as failure:
            results[event.pk] = failure.error
        except Exception as exc:  # noqa: BLE001  (recorded on the event: every failure is kept, none lost)
            results[event.pk] = exc
    return results


def record_outcomes(
    events: list[WebhookEvent], results: dict[int, Outcome | Exception], changes: dict[int, ContactEvent]
) -> None:
    """Every event's outcome in one set-based write: applied, ignored, due again later, or failed."""
    redacted = settle_outcomes(events, results, changes)
    bulk_update_by_pk(events, OUTCOME_FIELDS)
    if redacted:
        bulk_update_by_pk(redacted, (*REBUILT_COLUMNS, "redacted_at"))


def settle_outcomes(
    events: list[WebhookEvent], results: dict[int, Outcome | Exception], changes: dict[int, ContactEvent]
) -> list[WebhookEvent]:
    """Set every event's outcome on it (OUTCOME_FIELDS), in memory; those of erased contacts also rebuilt
    (returned: their REBUILT_COLUMNS and ``redacted_at`` are to be written too)."""
    now = timezone.now()
    redacted = []
    for event in events:
        result = results[event.pk]
        event.attempts += 1
        if isinstance(result, Outcome):
            reasons = [FUTURE_CHANGE_REASON if is_dated_in_the_future(event) else "", result.reason]
            event.status, event.status_reason = result.status, "; ".join(filter(None, reasons))
            event.changed_fields, event.drift = list(result.changed), list(result.drift)
            event.next_attempt_at, event.processed_at = None, now
            change = changes.get(event.pk)
            if change is not None and change.actor_id:
                event.actor_id, event.actor_type = change.actor_id, change.actor_type
            if result.subject_erased and event.redacted_at is None and event.body is not None:
                redacted.append(event)
        else:
            schedule_retry_or_fail(event, result, now=now)
    # A failed or retrying event of an erased contact must not keep its personal data while it waits.
    failed = [event for event in events if not isinstance(results[event.pk], Outcome)]
    redacted += events_of_erased_contacts(failed)
    unread = [event.pk for event in redacted if "headers" in event.get_deferred_fields()]
    headers = dict(WebhookEvent.objects.filter(pk__in=unread).values_list("pk", "headers")) if unread else {}
    for event in redacted:
        # Arrived while the contact was being erased, or after: rebuilt now, its outcome's reason too.
        if event.pk in headers:
            event.headers = headers[event.pk]
        columns = {name: getattr(event, name) for name in REBUILT_COLUMNS}
        for name, value in rebuilt_columns(get_provider(event.provider), columns).items():
            setattr(event, name, value)
        event.redacted_at = now
    return redacted


def schedule_retry_or_fail(event: WebhookEvent, exc: Exception, *, now: datetime) -> None:
    """A transient failure makes the event due again after a backoff; any other, or the last try, fails it."""
    with log_context(event_id=event.pk, provider=event.provider):
        _schedule_retry_or_fail(event, exc, now=now)


def _schedule_retry_or_fail(event: WebhookEvent, exc: Exception, *, now: datetime) -> None:
    reason = describe_failure(exc)
    max_attempts = settings.WEBHOOK_RETRY_MAX_ATTEMPTS
    if isinstance(exc, RETRYABLE_ERRORS) and event.attempts < max_attempts:
        event.next_attempt_at = now + timedelta(seconds=retry_delay(event.attempts))
        event.status_reason = f"try {event.attempts} of {max_attempts} failed: {reason}"
        logger.warning(
            "webhook event %s try %s failed (%s), retry at %s", event.pk, event.attempts, reason, event.next_attempt_at
        )
        return
    event.status, event.status_reason = WebhookEventStatus.FAILED, reason
    event.next_attempt_at, event.processed_at = None, now
    logger.error("webhook event %s failed: %s", event.pk, reason)


def batch_finished(events: list[WebhookEvent]) -> None:
    """Once a batch has committed: one line per event (ids and statuses only), and the outcomes counted
    (an event due again after a transient failure is not an outcome yet)."""
    counts = defaultdict(int)
    for event in events:
        with log_context(event_id=event.pk, provider=event.provider):
            logger.info("webhook event %s %s", event.pk, event.status)
        if event.status != WebhookEventStatus.RECEIVED:
            counts[event.provider, event.status] += 1
    for (provider, status), count in counts.items():
        record_processed(provider, status, count)


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: about base × 2^(attempt-1) seconds, capped."""
    return backoff_seconds(
        attempt,
        base=settings.WEBHOOK_RETRY_BACKOFF_SECONDS,
        cap=settings.WEBHOOK_RETRY_MAX_BACKOFF_SECONDS,
        jitter=True,
    )


def reading(event: WebhookEvent, *, payload: dict | None = None) -> ContactEvent | Outcome | Exception:
    """``interpret``, or the exception it raised (recorded on the event as its failure)."""
    try:
        return interpret(event, payload=payload)
    except Exception as exc:  # noqa: BLE001  (an event the provider cannot read fails alone)
        return exc


def interpret(event: WebhookEvent, *, payload: dict | None = None) -> ContactEvent | Outcome:
    """The provider's reading of a stored event: a change to apply, or an outcome already (ignored).
    ``payload``: its body already parsed (inline, the request's own), not parsed again."""
    if event.body is None:
        return Outcome(status=OutcomeStatus.IGNORED, reason="payload was purged before processing")
    delivery = Delivery.of_stored(event, occurred_at=sane_change_time(event), payload=payload)
    verdict = get_provider(event.provider).interpret(delivery)
    if isinstance(verdict, Ignore):
        return Outcome(status=OutcomeStatus.IGNORED, reason=verdict.reason)
    return verdict


def mark_ignored_events_of_erased_contacts(events: list[WebhookEvent], results: dict) -> None:
    """An ignored event about an erased contact was stored as received because the contact's erasure had
    not committed yet: it is redacted now. One query for the batch."""
    ignored = [event for event in events if isinstance(results.get(event.pk), Outcome)]
    for event in events_of_erased_contacts(ignored):
        results[event.pk] = replace(results[event.pk], subject_erased=True)


def events_of_erased_contacts(events: list[WebhookEvent]) -> list[WebhookEvent]:
    """Those of ``events`` still holding their payload as received although their contact is erased (an
    INSERT that committed while the erasure was still committing). One query, none when there are none."""
    unredacted = [
        event for event in events if event.external_id and event.redacted_at is None and event.body is not None
    ]
    if not unredacted:
        return []
    subjects = {(event.provider, event.account_id, event.external_id) for event in unredacted}
    erased = set(
        ErasedSubject.objects.filter(subjects_filter(subjects)).values_list("provider", "account_id", "external_id")
    )
    return [event for event in unredacted if (event.provider, event.account_id, event.external_id) in erased]


def dispatch(changes: list[ContactEvent]) -> list[Outcome]:
    """One ``contact_events`` signal for the batch; its one answering receiver gives an outcome per event,
    in order (``webhooks.bridge``: outcomes are never merged)."""
    answers = [
        response
        for _receiver, response in contact_events.send(sender=ContactEvent, events=changes)
        if isinstance(response, list)
    ]
    if len(answers) != 1:
        raise BridgeMisconfigured(
            f"webhooks.signals.contact_events had {len(answers)} receivers answering outcomes; exactly one must"
        )
    return answers[0]

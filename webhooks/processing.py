"""Applying a stored event: the provider interprets it, the ``contact_event`` signal carries it to
receivers, and the event row records the outcome, all in one transaction (dj-stripe's split: the
request is not atomic, processing is)."""

import logging
import traceback
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webhooks.events import ContactEvent, Outcome, OutcomeStatus, ProcessingError
from webhooks.ingest import encode_payload
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers import get_provider
from webhooks.providers.base import Delivery, Ignore
from webhooks.signals import contact_event

logger = logging.getLogger(__name__)


def process_event(event_pk: int) -> str:
    """Apply one event once. Returns the resulting status. Safe to call again: an event that is no
    longer ``received`` is left alone, and the row lock makes two workers take turns."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
            if event.status != WebhookEventStatus.RECEIVED:
                return event.status
            outcome, contact_change = _apply(event)
            event.status = outcome.status
            event.status_reason = outcome.reason
            event.changed_fields = list(outcome.changed)
            event.drift = list(outcome.drift)
            event.attempts += 1
            event.processed_at = timezone.now()
            fields = ["status", "status_reason", "changed_fields", "drift", "attempts", "processed_at"]
            if contact_change is not None and contact_change.actor_id:
                event.actor_id, event.actor_type = contact_change.actor_id, contact_change.actor_type
                fields += ["actor_id", "actor_type"]
            if outcome.subject_erased and event.redacted_at is None and event.body is not None:
                # Arrived while the contact was being erased: redact now instead.
                event.body = encode_payload(get_provider(event.provider).redact(event.payload))
                event.redacted_at = event.processed_at
                fields += ["body", "redacted_at"]
            event.save(update_fields=fields)
    except WebhookEvent.DoesNotExist:
        logger.warning("webhook event %s no longer exists", event_pk)
        return "missing"
    except Exception as exc:  # noqa: BLE001  (every failure is recorded, none is lost)
        reason = describe_failure(exc)
        WebhookEvent.objects.filter(pk=event_pk).update(
            status=WebhookEventStatus.FAILED,
            status_reason=reason,
            attempts=F("attempts") + 1,
            processed_at=timezone.now(),
        )
        logger.error("webhook event %s failed: %s", event_pk, reason)
        return WebhookEventStatus.FAILED
    logger.info("webhook event %s %s", event_pk, event.status)
    return event.status


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
        return Outcome(status=OutcomeStatus.IGNORED, reason=verdict.reason), None
    return dispatch(verdict), verdict


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

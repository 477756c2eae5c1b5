"""Replaying events (sync rule 8): they become due again, by id."""

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.db.notifications import notify
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.processing import process_events

# The channel idle workers LISTEN on; the event table's trigger notifies it (webhooks/migrations/0011).
WAKE_UP_CHANNEL = "webhook_events"


def reprocess_events(events: QuerySet[WebhookEvent]) -> list[int]:
    """Make the given events due again; returns their ids. Inline they are applied at once; with workers
    the next batch takes them (idle workers are woken). Application is idempotent (per-field versions), so
    replaying an already processed event changes nothing. ``attempts`` keeps counting: an event whose
    tries are used up gets one try per replay, no automatic retries."""
    event_pks = list(events.exclude(body__isnull=True).values_list("pk", flat=True))
    with transaction.atomic():
        WebhookEvent.objects.filter(pk__in=event_pks).update(
            status=WebhookEventStatus.RECEIVED, status_reason="", next_attempt_at=timezone.now()
        )
        if event_pks:
            wake_workers()
    if settings.WEBHOOK_PROCESSING == "inline":
        process_events(event_pks)
    return event_pks


def wake_workers() -> None:
    """Tell idle workers there is due work, with the current transaction's commit (PostgreSQL)."""
    notify(WAKE_UP_CHANNEL)

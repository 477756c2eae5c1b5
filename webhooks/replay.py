"""Replaying events (sync rule 8): back to ``received``, then through the normal task."""

from django.db import transaction
from django.db.models import QuerySet

from webhooks.ingest import enqueue_processing
from webhooks.models import WebhookEvent, WebhookEventStatus


def reprocess_events(events: QuerySet[WebhookEvent]) -> list[int]:
    """Queue the given events for processing again; returns their ids. Application is idempotent
    (per-field versions), so replaying an already processed event changes nothing."""
    event_pks = list(events.exclude(body__isnull=True).values_list("pk", flat=True))
    with transaction.atomic():
        WebhookEvent.objects.filter(pk__in=event_pks).update(status=WebhookEventStatus.RECEIVED, status_reason="")
        for event_pk in event_pks:
            transaction.on_commit(lambda pk=event_pk: enqueue_processing(pk), robust=True)
    return event_pks

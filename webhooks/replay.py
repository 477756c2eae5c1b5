"""Replaying events (sync rule 8) and sweeping up stuck ones: back to the normal task, by id."""

from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from webhooks.ingest import enqueue_after_commit
from webhooks.models import WebhookEvent, WebhookEventStatus


def reprocess_events(events: QuerySet[WebhookEvent]) -> list[int]:
    """Queue the given events for processing again; returns their ids. Application is idempotent
    (per-field versions), so replaying an already processed event changes nothing. ``attempts`` keeps
    counting: an event whose tries are used up gets one try per replay, no automatic retries."""
    event_pks = list(events.exclude(body__isnull=True).values_list("pk", flat=True))
    with transaction.atomic():
        WebhookEvent.objects.filter(pk__in=event_pks).update(
            status=WebhookEventStatus.RECEIVED, status_reason="", next_attempt_at=None
        )
        for event_pk in event_pks:
            enqueue_after_commit(event_pk)
    return event_pks


def sweep_stuck_events(*, older_than: timedelta, limit: int = 1000) -> list[int]:
    """Enqueue again every event still ``received`` this long after it arrived or was due for a retry:
    its task was lost (the enqueue failed after commit, a worker was killed mid-event, a retry could not
    be scheduled). Extra copies of a task are harmless: processing skips events no longer ``received``.

    Each swept event is stamped as due now, so the next sweep leaves it alone for ``older_than`` again;
    concurrent sweeps skip each other's rows."""
    now = timezone.now()
    with transaction.atomic():
        event_pks = list(
            WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED)
            .alias(due=Coalesce("next_attempt_at", "received_at"))
            .filter(due__lte=now - older_than)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        WebhookEvent.objects.filter(pk__in=event_pks).update(next_attempt_at=now)
        for event_pk in event_pks:
            enqueue_after_commit(event_pk)
    return event_pks

"""Retention: raw payloads are dropped after ``PAYLOAD_RETENTION_DAYS``; the rows stay.

A purged event keeps its provider, ids, dedupe key and outcome, so a re-delivery after the purge is still
answered as a duplicate and the event log still says what happened; only the body goes.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.ops.progress import progress
from webhooks.models import PayloadPurge, WebhookEvent, WebhookEventStatus

# Events whose payloads one transaction drops.
PURGE_BATCH_SIZE = 5000

logger = logging.getLogger(__name__)


def purge_old_payloads(
    *, older_than_days: int, by: str, batch_size: int = PURGE_BATCH_SIZE, progress_stream=None
) -> PayloadPurge:
    """Drop the bodies of events received more than ``older_than_days`` ago and record the run.

    In batches of ``batch_size`` events, each committed with the run's count, so a long purge holds no
    long transaction and an interrupted one still records exactly what it dropped. With
    ``progress_stream``, progress is shown there (config.ops.progress)."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    now = timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    purge = PayloadPurge.objects.create(purged_at=now, cutoff=cutoff, events=0, by=by)
    due = WebhookEvent.objects.filter(received_at__lt=cutoff, body__isnull=False).exclude(
        # Work still to do keeps its payload: a pending event, and a failed deletion, which must stay
        # replayable until it erases (its payload was redacted before it was first saved).
        Q(status=WebhookEventStatus.RECEIVED) | Q(status=WebhookEventStatus.FAILED, erasure=True)
    )
    total = due.count() if progress_stream is not None else None
    last_pk = 0
    with progress(total=total, desc="purging", stream=progress_stream, unit="payloads") as bar:
        while batch := list(due.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]):
            last_pk = batch[-1]
            with transaction.atomic():
                purged = WebhookEvent.objects.filter(pk__in=batch, body__isnull=False).update(
                    body=None, payload_purged_at=now
                )
                PayloadPurge.objects.filter(pk=purge.pk).update(events=F("events") + purged)
            bar.update(purged)
    purge.refresh_from_db()
    logger.info("purged %s webhook payload(s) received before %s", purge.events, cutoff.isoformat())
    return purge

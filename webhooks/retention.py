"""Retention: raw payloads are dropped after ``PAYLOAD_RETENTION_DAYS``; the rows stay.

A purged event keeps its provider, ids, dedupe key and outcome, so a re-delivery after the purge is still
answered as a duplicate and the event log still says what happened; only the body goes.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from webhooks.models import PayloadPurge, WebhookEvent

logger = logging.getLogger(__name__)


def purge_old_payloads(*, older_than_days: int, by: str) -> PayloadPurge:
    """Drop the bodies of events received more than ``older_than_days`` ago and record the run."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    now = timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    with transaction.atomic():
        purged = WebhookEvent.objects.filter(received_at__lt=cutoff, body__isnull=False).update(
            body=None, payload_purged_at=now
        )
        purge = PayloadPurge.objects.create(purged_at=now, cutoff=cutoff, events=purged, by=by)
    logger.info("purged %s webhook payload(s) received before %s", purged, cutoff.isoformat())
    return purge

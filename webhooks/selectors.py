"""Reads of the event log for staff screens (admin dashboard, a contact's timeline) and a person's export."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import Coalesce, TruncHour
from django.urls import reverse
from django.utils import timezone

from webhooks.events import StoredPayload, TimelineEntry
from webhooks.models import WebhookEvent, WebhookEventStatus

# An event still ``received`` this long after it arrived, or after it was due for a retry, has lost its task
# (worker down, enqueue failed) and `sweep_stuck_webhook_events` has not rescued it either.
STUCK_AFTER = timedelta(minutes=15)
TIMELINE_LIMIT = 100


@dataclass(frozen=True)
class HourlyCounts:
    hour: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def hourly_event_counts(*, hours: int = 48, now: datetime | None = None) -> list[HourlyCounts]:
    """Events received per hour and status over the last ``hours`` hours, oldest first, one entry per hour
    (empty hours included). One query."""
    now = now or timezone.now()
    last_hour = now.replace(minute=0, second=0, microsecond=0)
    first_hour = last_hour - timedelta(hours=hours - 1)
    rows = (
        WebhookEvent.objects.filter(received_at__gte=first_hour)
        .annotate(hour=TruncHour("received_at"))
        .values("hour", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_hour = {first_hour + timedelta(hours=n): dict.fromkeys(WebhookEventStatus.values, 0) for n in range(hours)}
    for row in rows:
        counts = by_hour.get(row["hour"])
        if counts is not None:
            counts[row["status"]] = counts.get(row["status"], 0) + row["count"]
    return [HourlyCounts(hour=hour, counts=counts) for hour, counts in by_hour.items()]


def _stuck(queryset, now: datetime):
    return queryset.alias(due=Coalesce("next_attempt_at", "received_at")).filter(
        status=WebhookEventStatus.RECEIVED, due__lt=now - STUCK_AFTER
    )


def events_needing_attention(*, now: datetime | None = None, limit: int = 20):
    """Failed events, and events stuck in ``received`` for longer than ``STUCK_AFTER``, newest first."""
    now = now or timezone.now()
    stuck = _stuck(WebhookEvent.objects.all(), now).values("pk")
    return (
        WebhookEvent.objects.filter(Q(status=WebhookEventStatus.FAILED) | Q(pk__in=stuck))
        .only("id", "provider", "event_type", "external_id", "status", "status_reason", "received_at", "attempts")
        .order_by("-received_at", "-id")[:limit]
    )


def attention_counts(*, now: datetime | None = None) -> dict[str, int]:
    # Two counts on the (status, received_at) index rather than one aggregate over the whole log.
    now = now or timezone.now()
    return {
        "failed": WebhookEvent.objects.filter(status=WebhookEventStatus.FAILED).count(),
        "stuck": _stuck(WebhookEvent.objects.all(), now).count(),
    }


def events_for_contact(
    *, provider: str, account_id: str, external_id: str, limit: int = TIMELINE_LIMIT
) -> list[TimelineEntry]:
    """The contact's stored deliveries, newest first, as plain rows (no payloads). One query."""
    events = (
        WebhookEvent.objects.filter(provider=provider, account_id=account_id, external_id=external_id)
        .only(
            "id",
            "event_type",
            "occurred_at",
            "received_at",
            "status",
            "status_reason",
            "changed_fields",
            "drift",
            "actor_id",
            "actor_type",
        )  # fmt: skip
        .order_by("-received_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            event_pk=event.pk,
            event_type=event.event_type,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            status=event.status,
            status_reason=event.status_reason,
            changed_fields=tuple(event.changed_fields or ()),
            drift=tuple(event.drift or ()),
            actor_id=event.actor_id,
            actor_type=event.actor_type,
            admin_url=reverse("admin:webhooks_webhookevent_change", args=[event.pk]),
        )
        for event in events
    ]


def payloads_for_contact(*, provider: str, account_id: str, external_id: str) -> list[StoredPayload]:
    """Every stored delivery about exactly this contact (its provider key, never a match on content), oldest
    first, with its payload. For the person's own export: no limit, read in chunks."""
    events = WebhookEvent.objects.filter(provider=provider, account_id=account_id, external_id=external_id).only(
        "id", "provider", "event_type", "event_id", "occurred_at", "received_at", "processed_at", "status",
        "redacted_at", "payload_purged_at", "body",
    )  # fmt: skip
    return [
        StoredPayload(
            event_pk=event.pk,
            provider=event.provider,
            event_type=event.event_type,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            processed_at=event.processed_at,
            status=event.status,
            redacted_at=event.redacted_at,
            payload_purged_at=event.payload_purged_at,
            payload=_readable_payload(event.body),
        )
        for event in events.order_by("received_at", "id").iterator(chunk_size=500)
    ]


def _readable_payload(body):
    if body is None:
        return None
    raw = bytes(body)
    try:
        return json.loads(raw)
    except ValueError:
        # Stored as received even when it is not JSON: the person gets the text itself.
        return raw.decode("utf-8", errors="replace")

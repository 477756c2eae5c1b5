"""Reads of the event log for staff screens (admin dashboard, a contact's timeline) and a person's export."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import Coalesce, TruncHour
from django.urls import reverse
from django.utils import timezone

from webhooks.events import ContactEvent, ProcessingError, StoredPayload, TimelineEntry
from webhooks.models import RejectedDelivery, WebhookEvent, WebhookEventStatus
from webhooks.processing import interpret
from webhooks.providers import UnknownProvider
from webhooks.readable import actor_type_label, readable_reason

# An event still ``received`` this long after it was due (on arrival, or for a retry) is not being applied:
# no `webhook_worker` is running (or, inline, no `webhook_worker --once` from cron).
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


# RejectedDelivery's reason for an allowed signature but a refused account; every other reason is a failed
# signature check (webhooks/views.py).
ACCOUNT_NOT_ALLOWED = "account not allowed"


def hourly_rejected_counts(*, hours: int = 48, now: datetime | None = None) -> list[tuple[datetime, int, int]]:
    """Refused requests per hour over the last ``hours`` hours, oldest first, one entry per hour:
    ``(hour, failed signature checks, refused accounts)``. One query."""
    now = now or timezone.now()
    last_hour = now.replace(minute=0, second=0, microsecond=0)
    first_hour = last_hour - timedelta(hours=hours - 1)
    rows = (
        RejectedDelivery.objects.filter(hour__gte=first_hour)
        .values("hour")
        .annotate(
            signature=Sum("count", filter=~Q(reason=ACCOUNT_NOT_ALLOWED), default=0),
            account=Sum("count", filter=Q(reason=ACCOUNT_NOT_ALLOWED), default=0),
        )
        .order_by()
    )
    by_hour = {first_hour + timedelta(hours=n): (0, 0) for n in range(hours)}
    for row in rows:
        if row["hour"] in by_hour:
            by_hour[row["hour"]] = (row["signature"], row["account"])
    return [(hour, signature, account) for hour, (signature, account) in by_hour.items()]


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
    # Two counts, each on a partial index (the failed events; the pending ones), not one aggregate over the log.
    now = now or timezone.now()
    return {
        "failed": WebhookEvent.objects.filter(status=WebhookEventStatus.FAILED).count(),
        "stuck": _stuck(WebhookEvent.objects.all(), now).count(),
    }


@dataclass(frozen=True)
class PendingEvents:
    provider: str
    count: int
    oldest_received_at: datetime


def pending_events_by_provider() -> list[PendingEvents]:
    """Events still ``received`` (due now, or scheduled for a retry), per provider, with the oldest one's
    arrival. One query, answered from the partial index of pending events alone (an index-only scan on
    PostgreSQL: docs/operations.md), however long the log."""
    rows = (
        WebhookEvent.objects.filter(status=WebhookEventStatus.RECEIVED)
        .values("provider")
        # COUNT(*), not COUNT(id): the id is not in the index, and reading it would visit the table.
        .annotate(count=Count("*"), oldest=Min("received_at"))
        .order_by("provider")
    )
    return [
        PendingEvents(provider=row["provider"], count=row["count"], oldest_received_at=row["oldest"]) for row in rows
    ]


def events_for_contact(
    *, provider: str, account_id: str, external_id: str, limit: int = TIMELINE_LIMIT, with_values: bool = False
) -> list[TimelineEntry]:
    """The contact's stored deliveries, newest first, as plain rows. One query; the payloads are read only
    ``with_values`` (to show each change's old → new values)."""
    columns = ["id", "event_type", "occurred_at", "received_at", "status", "status_reason", "changed_fields",
               "drift", "actor_id", "actor_type"]  # fmt: skip
    if with_values:
        columns += ["provider", "dedupe_key", "event_id", "account_id", "external_id", "body", "redacted_at"]
    events = (
        WebhookEvent.objects.filter(provider=provider, account_id=account_id, external_id=external_id)
        .only(*columns)
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
            values=changed_values(event) if with_values else (),
            status_label=event.get_status_display(),
            reason_label=readable_reason(event.status_reason),
            actor_type_label=actor_type_label(event.actor_type),
        )
        for event in events
    ]


def payloads_for_contact(
    *, provider: str, account_id: str, external_id: str, with_payloads: bool = True
) -> list[StoredPayload]:
    """Every stored delivery about exactly this contact (its provider key, never a match on content), oldest
    first, with its payload (None for all without ``with_payloads``: the bodies are not even read). For the
    person's own export: no limit, read in chunks."""
    columns = ["id", "provider", "event_type", "event_id", "occurred_at", "received_at", "processed_at", "status",
               "redacted_at", "payload_purged_at"]  # fmt: skip
    events = WebhookEvent.objects.filter(provider=provider, account_id=account_id, external_id=external_id).only(
        *columns, *(["body"] if with_payloads else [])
    )
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
            payload=_readable_payload(event.body) if with_payloads else None,
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


def changed_values(event: WebhookEvent) -> tuple[tuple[str, str | None, str], ...]:
    """Per field the event changed: the value before (None when it did not say) and after, from its stored
    payload read by its provider, as text. Nothing for a purged or redacted payload, or one its provider
    cannot read any more."""
    if event.body is None or event.redacted_at is not None or not event.changed_fields:
        return ()
    try:
        # Read exactly as processing read it.
        verdict = interpret(event)
    except (UnknownProvider, ProcessingError, ValueError, TypeError):
        return ()
    if not isinstance(verdict, ContactEvent):
        return ()
    return tuple(
        (name, _as_text(verdict.previous[name]) if name in verdict.previous else None, _as_text(verdict.fields[name]))
        for name in event.changed_fields
        if name in verdict.fields
    )


def _as_text(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_as_text(item)}" for key, item in sorted(value.items()))
    return str(value)

"""The outbound queue: messages written in the caller's transaction, claimed in batches, their tries recorded.

A ``pending`` message whose ``next_attempt_at`` has come is due. A worker claims due messages with
``FOR UPDATE SKIP LOCKED`` and moves their ``next_attempt_at`` past the longest their tries can take (a
lease: a worker killed mid-delivery leaves them due again once it ends), then delivers outside any
transaction and writes what became of each, many in one transaction.
"""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from config.bulk import bulk_update_by_pk
from config.failures import backoff_seconds
from config.metrics import record_outbound_try
from webhooks.outbound.http import TRY_SECONDS, TryResult
from webhooks.outbound.models import OutboundAttempt, OutboundEndpoint, OutboundMessage, OutboundStatus

# Longest wait between two tries of a message, whatever the base.
MAX_BACKOFF_SECONDS = 6 * 3600
LEASE_MARGIN_SECONDS = 30


def configure_endpoint(*, key: str, label: str, url: str, secrets: list[str], active: bool) -> None:
    """Create or update the endpoint known by ``key`` (its owner's id for it)."""
    OutboundEndpoint.objects.update_or_create(
        key=key, defaults={"label": label, "url": url, "secrets": list(secrets), "active": active}
    )


def queue_messages(*, endpoint_keys: Iterable[str], event_type: str, data: dict, at: datetime) -> str:
    """One message (one ``webhook-id``) to each endpoint, written in the caller's transaction: it is sent
    only if that commits. Returns the message id. ``data`` must hold nothing personal: it is stored and sent."""
    message_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(
        {"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )
    endpoints = OutboundEndpoint.objects.filter(key__in=list(endpoint_keys)).values_list("pk", flat=True)
    now = timezone.now()
    OutboundMessage.objects.bulk_create(
        OutboundMessage(
            message_id=message_id, endpoint_id=pk, event_type=event_type, body=body,
            created_at=now, next_attempt_at=now, retry_since=now,
        )
        for pk in endpoints
    )  # fmt: skip
    return message_id


def due_messages(*, due_before: datetime | None = None) -> QuerySet[OutboundMessage]:
    """Pending messages due by ``due_before`` (now when None), of active endpoints."""
    return OutboundMessage.objects.filter(
        status=OutboundStatus.PENDING, next_attempt_at__lte=due_before or timezone.now(), endpoint__active=True
    )


def endpoints_with_due_messages(
    *, exclude: Iterable[int] = (), due_before: datetime | None = None, limit: int
) -> list[int]:
    """Active endpoints (not in ``exclude``) with a due message, the longest-waiting first: one index probe
    per endpoint, however many messages wait."""
    oldest_due = (
        OutboundMessage.objects.filter(
            endpoint=OuterRef("pk"), status=OutboundStatus.PENDING, next_attempt_at__lte=due_before or timezone.now()
        )
        .order_by("next_attempt_at")
        .values("next_attempt_at")[:1]
    )
    return list(
        OutboundEndpoint.objects.filter(active=True)
        .exclude(pk__in=list(exclude))
        .annotate(oldest_due=Subquery(oldest_due))
        .filter(oldest_due__isnull=False)
        .order_by("oldest_due", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def claim_due_messages(
    *, endpoint_id: int, size: int, due_before: datetime | None = None
) -> tuple[OutboundEndpoint | None, list[OutboundMessage]]:
    """The endpoint as it is now (None once it is inactive or gone: nothing more goes to it) and up to
    ``size`` of its due messages, leased to the caller: no other worker takes them until their tries, one
    after the other, could have ended (a worker killed mid-delivery leaves them due again then)."""
    with transaction.atomic():
        endpoint = OutboundEndpoint.objects.filter(pk=endpoint_id, active=True).first()
        if endpoint is None:
            return None, []
        claimed = list(
            OutboundMessage.objects.filter(
                endpoint_id=endpoint_id, status=OutboundStatus.PENDING,
                next_attempt_at__lte=due_before or timezone.now(),
            )
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)[:size]
        )  # fmt: skip
        if claimed:
            lease = timedelta(seconds=len(claimed) * TRY_SECONDS + LEASE_MARGIN_SECONDS)
            OutboundMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(
                next_attempt_at=timezone.now() + lease
            )
    for message in claimed:
        message.endpoint = endpoint
    return endpoint, claimed


def current_endpoint(endpoint_id: int) -> OutboundEndpoint | None:
    """The endpoint as it is now, None once it is inactive or gone."""
    return OutboundEndpoint.objects.filter(pk=endpoint_id, active=True).first()


@dataclass(frozen=True)
class TryOutcome:
    message: OutboundMessage
    result: TryResult
    at: datetime


def record_tries(outcomes: list[TryOutcome]) -> None:
    """Write the tries and what became of their messages (delivered, due again later, or failed), at once."""
    if not outcomes:
        return
    give_up = timedelta(hours=settings.OUTBOUND_GIVE_UP_HOURS)
    messages = []
    for outcome in outcomes:
        message, result = outcome.message, outcome.result
        message.attempts += 1
        message.last_attempt_at, message.last_status_code = outcome.at, result.status_code
        message.last_error = result.error
        if result.delivered:
            message.status, message.delivered_at, label = OutboundStatus.DELIVERED, outcome.at, "delivered"
        elif outcome.at >= message.retry_since + give_up:
            message.status, label = OutboundStatus.FAILED, "failed"
        else:
            delay = backoff_seconds(
                message.attempts, base=settings.OUTBOUND_RETRY_BASE_SECONDS, cap=MAX_BACKOFF_SECONDS, jitter=True
            )
            # The last try falls on the give-up time, not after it.
            message.next_attempt_at = min(outcome.at + timedelta(seconds=delay), message.retry_since + give_up)
            label = "retried"
        messages.append((message, label))
    with transaction.atomic():
        OutboundAttempt.objects.bulk_create(
            OutboundAttempt(
                message_id=o.message.pk, attempted_at=o.at, status_code=o.result.status_code,
                error=o.result.error, duration_ms=o.result.duration_ms,
            )
            for o in outcomes
        )  # fmt: skip
        # A message cancelled while its try was on the way (its system's notice marked impossible) stays so.
        cancelled = set(
            OutboundMessage.objects.filter(
                pk__in=[message.pk for message, _label in messages], status=OutboundStatus.CANCELLED
            ).values_list("pk", flat=True)
        )
        bulk_update_by_pk(
            [message for message, _label in messages if message.pk not in cancelled],
            ["status", "attempts", "next_attempt_at", "last_attempt_at", "last_status_code", "last_error",
             "delivered_at"],
        )  # fmt: skip
    for message, label in messages:
        record_outbound_try(message.endpoint.label, label)


def release(messages: Iterable[OutboundMessage]) -> None:
    """Messages claimed but not tried (the worker is stopping): due again at once, for any worker."""
    pks = [message.pk for message in messages]
    if pks:
        OutboundMessage.objects.filter(pk__in=pks, status=OutboundStatus.PENDING).update(next_attempt_at=timezone.now())


def replay_messages(messages: QuerySet[OutboundMessage]) -> int:
    """Failed (or pending) messages due again now, with a fresh give-up time; how many. Delivered and
    cancelled ones stay as they are."""
    now = timezone.now()
    return messages.exclude(status__in=[OutboundStatus.DELIVERED, OutboundStatus.CANCELLED]).update(
        status=OutboundStatus.PENDING, next_attempt_at=now, retry_since=now
    )


def message_statuses(message_ids: Iterable[str]) -> dict[tuple[str, str], tuple[str, datetime | None]]:
    """(message id, endpoint key) → (status, when: delivered, failed at, or the last try; None when untried)."""
    rows = OutboundMessage.objects.filter(message_id__in=list(message_ids)).values_list(
        "message_id", "endpoint__key", "status", "delivered_at", "last_attempt_at"
    )
    return {(mid, key): (status, delivered or tried) for mid, key, status, delivered, tried in rows}


def cancel_message(*, message_id: str, endpoint_key: str) -> bool:
    """Never send this message to this endpoint (unless it was delivered already: then False)."""
    messages = OutboundMessage.objects.filter(message_id=message_id, endpoint__key=endpoint_key)
    messages.filter(status__in=[OutboundStatus.PENDING, OutboundStatus.FAILED]).update(status=OutboundStatus.CANCELLED)
    return not messages.filter(status=OutboundStatus.DELIVERED).exists()


def undelivered_message_ids(*, created_before: datetime) -> set[str]:
    """Ids of messages queued before the time that some endpoint has not received yet (pending or failed;
    not cancelled: nobody waits for those)."""
    return set(
        OutboundMessage.objects.filter(created_at__lt=created_before)
        .exclude(status__in=[OutboundStatus.DELIVERED, OutboundStatus.CANCELLED])
        .values_list("message_id", flat=True)
        .distinct()
    )


def pending_by_endpoint() -> list[dict]:
    """Per endpoint: its label, how many messages are pending, and the oldest one's queue time."""
    return list(
        OutboundMessage.objects.filter(status=OutboundStatus.PENDING)
        .values(label=F("endpoint__label"))
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by("label")
    )

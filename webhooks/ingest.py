"""Storing an accepted delivery: durable first (sync rule 1), one row per dedupe key (rule 2)."""

import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import BinaryField, Case, DateTimeField, Exists, Value, When
from django.utils import timezone

from webhooks.models import ErasedSubject, WebhookEvent
from webhooks.providers.base import Delivery, WebhookProvider

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredDelivery:
    event_pk: int
    duplicate: bool


def encode_payload(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def store_delivery(
    *,
    provider: WebhookProvider,
    delivery: Delivery,
    body: bytes,
    headers: dict[str, str],
    signature_form: str,
    remote_addr: str | None,
) -> StoredDelivery:
    """Insert the event (the unique constraint decides duplicates, also under concurrency) and
    schedule its processing after commit. Raises ``DatabaseError`` when it cannot be stored."""
    now = timezone.now()
    redacted_at = None
    if provider.is_erasure(delivery):
        # A deletion's personal data is never saved, not even once.
        body, redacted_at = encode_payload(provider.redact(delivery.payload)), now
    if redacted_at is None and provider.carries_personal_data and delivery.external_id:
        # A late event about an erased contact is committed only in its redacted form. The check runs
        # inside the INSERT itself (one round trip, not two: README › Performance).
        erased = Exists(
            ErasedSubject.objects.filter(
                provider=provider.name, account_id=delivery.account_id, external_id=delivery.external_id
            )
        )
        redacted = encode_payload(provider.redact(delivery.payload))
        body = Case(
            When(erased, then=Value(redacted, output_field=BinaryField())),
            default=Value(body, output_field=BinaryField()),
        )
        redacted_at = Case(When(erased, then=Value(now)), default=None, output_field=DateTimeField())
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider.name,
                dedupe_key=delivery.dedupe_key,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                account_id=delivery.account_id,
                external_id=delivery.external_id,
                occurred_at=delivery.occurred_at,
                received_at=now,
                body=body,
                headers=headers,
                signature_form=signature_form,
                remote_addr=remote_addr,
                redacted_at=redacted_at,
            )
            enqueue_after_commit(event.pk)
    except IntegrityError:
        first = (
            WebhookEvent.objects.filter(provider=provider.name, dedupe_key=delivery.dedupe_key)
            .values_list("pk", flat=True)
            .first()
        )
        if first is None:
            raise
        return StoredDelivery(event_pk=first, duplicate=True)
    return StoredDelivery(event_pk=event.pk, duplicate=False)


def enqueue_after_commit(event_pk: int) -> None:
    """Enqueue the event's task once the transaction commits. Robust: if enqueueing fails (the database
    went away just after the commit), the error is logged and the delivery still stands; the stuck event
    sweep enqueues it later. A lambda, not a ``partial``: Django's robust hooks log the callable's
    ``__qualname__``, which a ``partial`` lacks, so its failure would escape as a 500."""
    transaction.on_commit(lambda: enqueue_processing(event_pk), robust=True)


def enqueue_processing(event_pk: int) -> None:
    from webhooks.tasks import process_webhook_event

    process_webhook_event.enqueue(event_pk)

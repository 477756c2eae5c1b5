"""``webhooks``'s own answer to an erasure: redact every stored copy of the person's payloads."""

from django.dispatch import receiver
from django.utils import timezone

from webhooks.ingest import encode_payload
from webhooks.models import ErasedSubject, WebhookEvent
from webhooks.providers import UnknownProvider, get_provider
from webhooks.selectors import events_for_contact
from webhooks.signals import contact_timeline, subject_erased

REDACTION_BATCH = 500


@receiver(subject_erased, dispatch_uid="webhooks.redact_stored_payloads")
def redact_stored_payloads(sender, *, provider: str, account_id: str, external_id: str, **kwargs) -> int:
    """Redact the contact's payloads in place, selected by ids (never by matching text), and remember
    the contact so later deliveries are stored redacted. Returns how many payloads it redacted."""
    ErasedSubject.objects.get_or_create(provider=provider, account_id=account_id, external_id=external_id)
    try:
        webhook_provider = get_provider(provider)
    except UnknownProvider:
        return 0
    now = timezone.now()
    pending = (
        WebhookEvent.objects.filter(
            provider=provider,
            account_id=account_id,
            external_id=external_id,
            redacted_at__isnull=True,
            body__isnull=False,
        )
        .only("id", "body")
        .order_by("id")
    )
    redacted = 0
    batch = []
    for event in pending.iterator(chunk_size=REDACTION_BATCH):
        event.body = encode_payload(webhook_provider.redact(event.payload))
        event.redacted_at = now
        batch.append(event)
        if len(batch) == REDACTION_BATCH:
            WebhookEvent.objects.bulk_update(batch, ["body", "redacted_at"])
            redacted += len(batch)
            batch = []
    if batch:
        WebhookEvent.objects.bulk_update(batch, ["body", "redacted_at"])
        redacted += len(batch)
    return redacted


@receiver(contact_timeline, dispatch_uid="webhooks.contact_timeline")
def contact_timeline_entries(sender, *, provider: str, account_id: str, external_id: str, **kwargs):
    """The contact's deliveries for its page in admin (read-only)."""
    return events_for_contact(provider=provider, account_id=account_id, external_id=external_id)

"""``webhooks``'s own answers to ``contacts``: an erasure rebuilds every stored copy of the person's events."""

from django.dispatch import receiver

from webhooks.models import ErasedSubject
from webhooks.rebuild import rebuild_subject_copies
from webhooks.selectors import events_for_contact, payloads_for_contact
from webhooks.signals import contact_timeline, subject_erased, subject_payloads, subject_reactivated


@receiver(subject_erased, dispatch_uid="webhooks.redact_stored_payloads")
def redact_stored_payloads(sender, *, provider: str, account_id: str, external_id: str, **kwargs) -> int:
    """Rebuild the contact's stored events from what survives an erasure (``webhooks.rebuild``) and
    remember the contact so later deliveries are stored rebuilt. Returns how many events it rebuilt."""
    rebuilt = rebuild_subject_copies(provider=provider, account_id=account_id, external_id=external_id)
    return rebuilt["webhooks_webhookevent.rows"]


@receiver(subject_reactivated, dispatch_uid="webhooks.store_reactivated_subject_as_received")
def forget_erased_subject(sender, *, provider: str, account_id: str, external_id: str, **kwargs) -> None:
    """The contact lives again: its new deliveries are stored as received (its old ones stay redacted)."""
    ErasedSubject.objects.filter(provider=provider, account_id=account_id, external_id=external_id).delete()


@receiver(contact_timeline, dispatch_uid="webhooks.contact_timeline")
def contact_timeline_entries(
    sender, *, provider: str, account_id: str, external_id: str, with_values: bool = False, **kwargs
):
    """The contact's deliveries for its page in admin (read-only)."""
    return events_for_contact(
        provider=provider, account_id=account_id, external_id=external_id, with_values=with_values
    )


@receiver(subject_payloads, dispatch_uid="webhooks.subject_payloads")
def contact_payloads(
    sender, *, provider: str, account_id: str, external_id: str, with_payloads: bool = True, **kwargs
):
    """The contact's deliveries with their payloads, for the person's own export (read-only)."""
    return payloads_for_contact(
        provider=provider, account_id=account_id, external_id=external_id, with_payloads=with_payloads
    )

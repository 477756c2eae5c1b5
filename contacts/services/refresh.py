"""Looking contacts up at their provider (pluggable fetchers, sync rule 9) and applying what is found by
last-write-wins: for providers whose events only say "something changed" (FPT), and to reactivate a
contact a provider with soft deletions brought back.

A contact that ``needs_refresh`` with a fetcher configured for its provider is due (unless a failed
look-up is backing off or was given up on): inline, right after the change that asked for it commits;
with workers, ``webhook_worker`` looks due contacts up between batches (``refresh_due_contacts``).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from config.db.locks import lock_subjects
from config.ops.failures import backoff_seconds, error_class_name
from contacts.models import Contact
from contacts.services.erasure import erased_on_request
from contacts.services.last_write_wins import (
    DELETION_VERSION_KEY,
    REFRESH_VERSION_KEY,
    SNAPSHOT_DEDUPE_KEY,
    FieldVersion,
    apply_fields,
    stored_version,
)
from webhooks.bridge import stored_events
from webhooks.events import ContactEvent, ContactEventKind, ContactSnapshot

logger = logging.getLogger(__name__)

REFRESH_BACKOFF_CAP_SECONDS = 6 * 3600
# A claimed look-up is someone's for this long; if its process dies, the contact is due again after it.
REFRESH_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class RefreshResult:
    """What one look-up did: ``refreshed``, ``skipped`` or ``failed``; ``retry_in`` seconds when a failed
    look-up should be tried again. ``reason`` holds ids and field names only."""

    status: str
    reason: str = ""
    retry_in: int | None = None


def contact_fetcher(provider: str):
    """The callable configured in ``settings.CONTACT_FETCHERS`` for this provider, or None."""
    path = settings.CONTACT_FETCHERS.get(provider)
    return _import_fetcher(path) if path else None


@cache
def _import_fetcher(path: str):
    return import_string(path)


def refresh_backoff(attempt: int) -> int:
    """Seconds before retrying after the ``attempt``-th failure: BACKOFF, 2×, 4×, ..., capped."""
    return int(backoff_seconds(attempt, base=settings.CONTACT_REFRESH_BACKOFF_SECONDS, cap=REFRESH_BACKOFF_CAP_SECONDS))


def refresh_contact(*, contact_id: int) -> RefreshResult:
    """Look the contact up with its provider's fetcher and apply the state by last-write-wins.

    The fetcher runs outside any transaction (it may be slow); its result is applied under the row
    lock. A failure counts an attempt and sets when to retry (``refresh_due_at``); the caller retries.
    """
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return RefreshResult("skipped", f"contact {contact_id} no longer exists")
    fetcher = contact_fetcher(contact.provider)
    if fetcher is None:
        return RefreshResult("skipped", f"no contact fetcher configured for {contact.provider}")
    if not contact.needs_refresh:
        return RefreshResult("skipped", "contact is up to date")
    if contact.is_erased and erased_on_request(contact):
        Contact.objects.filter(pk=contact.pk).update(needs_refresh=False, updated_at=timezone.now())
        return RefreshResult("skipped", "contact was erased on a data-subject request")
    try:
        snapshot = fetcher(provider=contact.provider, account_id=contact.account_id, external_id=contact.external_id)
        read_at = timezone.now()
        if snapshot is not None and not isinstance(snapshot, ContactSnapshot):
            raise TypeError("a contact fetcher must return a ContactSnapshot or None")
        with transaction.atomic():
            lock_subjects([(contact.provider, contact.account_id, contact.external_id)])
            contact = Contact.objects.select_for_update().get(pk=contact_id)
            result = _apply_snapshot(contact, snapshot, read_at=read_at)
    except Exception as exc:  # noqa: BLE001  (any failure of a fetcher is retried, never lost)
        return _record_refresh_failure(contact_id, exc)
    logger.info("contact %s look-up: %s (%s)", contact_id, result.status, result.reason)
    return result


def _apply_snapshot(contact: Contact, snapshot: ContactSnapshot | None, *, read_at) -> RefreshResult:
    contact.refresh_attempts, contact.refresh_due_at = 0, None
    if snapshot is None:
        # Not found (or deleted) at the provider: nothing to look up; a deletion event erases, not us.
        contact.needs_refresh = False
        contact.save()
        return RefreshResult("refreshed", "not found at the provider: nothing applied")
    version = FieldVersion.of_snapshot(snapshot.as_of)
    # A state dated later than when it was read (beyond the clock skew webhooks allow) counts as read then, as
    # a webhook's change dated after its receipt does (webhooks/change_times.py): no future date freezes a field.
    dated_in_the_future = version.changed_at > read_at + timedelta(seconds=settings.WEBHOOK_TOLERANCE_SECONDS)
    if dated_in_the_future:
        version = FieldVersion.of_snapshot(read_at)
    deleted = stored_version(contact, DELETION_VERSION_KEY)
    reactivated = False
    if contact.is_erased:
        if not contact.needs_refresh or erased_on_request(contact):
            # Erased again (or on a data-subject request) while the look-up was running.
            contact.save()
            return RefreshResult("skipped", "contact was erased while it was looked up")
        if deleted is not None and version <= deleted:
            contact.save()
            return RefreshResult("skipped", "the looked-up state is older than the contact's deletion")
        # Reactivated at the provider after its own (soft) deletion: the contact lives again, filled
        # only from its current state there. The erasure record stays; nothing older comes back.
        contact.erased_at = None
        reactivated = True
    event = ContactEvent(
        provider=contact.provider,
        account_id=contact.account_id,
        external_id=contact.external_id,
        kind=ContactEventKind.UPDATED,
        changed_at=version.changed_at,
        dedupe_key=SNAPSHOT_DEDUPE_KEY,
        fields=snapshot.fields,
    )
    outcome = apply_fields(contact, event)
    requested = stored_version(contact, REFRESH_VERSION_KEY)
    if requested is None or version >= requested:
        contact.needs_refresh = False
    contact.save()
    if reactivated:
        # From now on its deliveries are stored as received, like any living contact's.
        stored_events().reactivate_subject(
            provider=contact.provider, account_id=contact.account_id, external_id=contact.external_id
        )
    reason = "; ".join(
        part
        for part in (
            "reactivated" if reactivated else "",
            "state dated after it was read: counted as the look-up time" if dated_in_the_future else "",
            f"applied: {', '.join(outcome.changed)}" if outcome.changed else "nothing newer",
            outcome.reason,
            "a newer change still needs a look-up" if contact.needs_refresh else "",
        )
        if part
    )
    return RefreshResult("refreshed", reason)


def _record_refresh_failure(contact_id: int, exc: Exception) -> RefreshResult:
    # Class and module only: a fetcher's message may quote the provider's data.
    error = error_class_name(exc)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
        if contact is None:
            return RefreshResult("skipped", f"contact {contact_id} no longer exists")
        contact.refresh_attempts += 1
        attempts = contact.refresh_attempts
        retry_in = refresh_backoff(attempts) if attempts < settings.CONTACT_REFRESH_MAX_ATTEMPTS else None
        contact.refresh_due_at = timezone.now() + timedelta(seconds=retry_in) if retry_in is not None else None
        contact.save(update_fields=["refresh_attempts", "refresh_due_at", "updated_at"])
    if retry_in is None:
        logger.error("contact %s look-up failed (%s), attempt %s: giving up", contact_id, error, attempts)
        return RefreshResult("failed", f"{error}; gave up after {attempts} attempts")
    logger.warning("contact %s look-up failed (%s), attempt %s: retry in %ss", contact_id, error, attempts, retry_in)
    return RefreshResult("failed", f"{error}; attempt {attempts}, retry in {retry_in}s", retry_in=retry_in)


def request_refresh(*, contacts: QuerySet[Contact]) -> tuple[list[int], int]:
    """Staff asked to look these contacts up now: mark them and forget earlier failures, so that they are
    due. Inline, they are looked up once this commits; with workers, by the next ``webhook_worker`` round.
    Returns the ids marked and how many were skipped (no fetcher for their provider, or an erased contact
    that its provider has not reactivated)."""
    providers = set(settings.CONTACT_FETCHERS)
    candidates = list(contacts.values_list("pk", "provider", "erased_at", "needs_refresh"))
    queued = [
        pk
        for pk, provider, erased_at, needs_refresh in candidates
        if provider in providers and (erased_at is None or needs_refresh)
    ]
    with transaction.atomic():
        Contact.objects.filter(pk__in=queued).update(
            needs_refresh=True, refresh_attempts=0, refresh_due_at=None, updated_at=timezone.now()
        )
        if settings.WEBHOOK_PROCESSING == "inline":
            for pk in queued:
                _refresh_on_commit(pk)
    return queued, len(candidates) - len(queued)


def schedule_look_up(contact: Contact) -> None:
    """Inline, look the contact up once the change that asked for it commits, unless a failed look-up is
    backing off. With workers nothing is queued: a contact that needs a look-up and is due is the work
    (``refresh_due_contacts``)."""
    if settings.WEBHOOK_PROCESSING != "inline":
        return
    if not contact.needs_refresh or contact_fetcher(contact.provider) is None:
        return
    if contact.refresh_due_at is not None and contact.refresh_due_at > timezone.now():
        return
    _refresh_on_commit(contact.pk)


def _refresh_on_commit(contact_pk: int) -> None:
    # A lambda, not a partial: Django logs a failing robust hook's __qualname__, which a partial lacks.
    transaction.on_commit(lambda: refresh_contact(contact_id=contact_pk), robust=True)


def contacts_due_for_refresh(*, now, provider: str | None = None) -> QuerySet:
    """Contacts waiting for a look-up whose provider has a fetcher, not backing off, not given up on."""
    providers = set(settings.CONTACT_FETCHERS)
    if provider is not None:
        providers &= {provider}
    return Contact.objects.filter(
        Q(refresh_due_at__isnull=True) | Q(refresh_due_at__lte=now),
        needs_refresh=True,
        provider__in=providers,
        refresh_attempts__lt=settings.CONTACT_REFRESH_MAX_ATTEMPTS,
    ).order_by("pk")


def refresh_due_contacts(*, limit: int, provider: str | None = None) -> int:
    """Look up to ``limit`` due contacts up (``webhook_worker``'s second queue: contacts that need a
    look-up, not backing off, not given up on). Each is claimed for ``REFRESH_LEASE`` first, in a short
    transaction that skips contacts another worker is claiming, so two workers never look one contact up
    at once. Returns how many were looked up."""
    if not settings.CONTACT_FETCHERS:
        return 0
    now = timezone.now()
    with transaction.atomic():
        due = contacts_due_for_refresh(now=now, provider=provider).select_for_update(skip_locked=True)
        claimed = list(due.values_list("pk", flat=True)[:limit])
        Contact.objects.filter(pk__in=claimed).update(refresh_due_at=now + REFRESH_LEASE)
    for contact_pk in claimed:
        refresh_contact(contact_id=contact_pk)
    return len(claimed)

"""Contact business logic: applying normalized events (sync rules 2–6) and erasing people (LGPD).

Callers (signal receivers, admin actions, commands) stay thin and call these.
"""

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contacts.models import PERSONAL_FIELDS, SYNCED_FIELDS, Contact, ErasureRecord
from contacts.normalize import normalize_email, normalize_field, normalize_phone
from webhooks.events import ContactEvent, ContactEventKind, Outcome, OutcomeStatus
from webhooks.signals import subject_erased

logger = logging.getLogger(__name__)

DELETION_VERSION_KEY = "_deleted"
# Arbitrary constant naming the advisory lock that serializes writers of the erasure log chain.
ERASURE_CHAIN_LOCK_ID = 7_204_311_882


def version_stamp(changed_at: datetime, tiebreak: str) -> list[str]:
    """A sortable [time, tiebreak] pair; equal times fall back to the dedupe key (rule 3)."""
    return [changed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), tiebreak]


def apply_contact_event(*, event: ContactEvent) -> Outcome:
    """Apply one event to its contact under a row lock. Call inside a transaction."""
    if event.kind == ContactEventKind.DELETED:
        return _apply_deletion(event)

    key = {"provider": event.provider, "account_id": event.account_id, "external_id": event.external_id}
    contact = Contact.objects.select_for_update().filter(**key).first()
    if contact is None:
        contact = Contact(**key, needs_refresh=not event.complete)
        outcome = _apply_fields(contact, event)
        try:
            with transaction.atomic():
                contact.save(force_insert=True)
            return outcome
        except IntegrityError:
            # Created concurrently by another delivery: apply on top of it instead.
            contact = Contact.objects.select_for_update().get(**key)

    if contact.is_erased:
        return _event_for_erased_contact(contact, event)
    outcome = _apply_fields(contact, event)
    contact.save()
    return outcome


def _apply_fields(contact: Contact, event: ContactEvent) -> Outcome:
    stamp = version_stamp(event.changed_at, event.tiebreak)
    versions = dict(contact.field_versions)
    applied, stale, drift = [], [], []
    for name, raw in event.fields.items():
        if name not in SYNCED_FIELDS:
            continue
        value = normalize_field(name, raw)
        current = versions.get(name)
        if current is not None and stamp <= current:
            stale.append(name)
            continue
        if (
            name in event.previous
            and contact.pk is not None
            and normalize_field(name, event.previous[name]) != getattr(contact, name)
        ):
            drift.append(name)
        setattr(contact, name, value)
        versions[name] = stamp
        applied.append(name)

    if event.complete:
        # Whole state known now: fields it carried stale are stale because we hold newer values.
        contact.needs_refresh = False
    if event.needs_refresh:
        contact.needs_refresh = True
    contact.field_versions = versions
    times = [stamp_time for stamp_time, _key in (v for k, v in versions.items() if k != DELETION_VERSION_KEY)]
    if times:
        contact.remote_updated_at = datetime.strptime(max(times), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    reasons = []
    if stale:
        reasons.append(f"stale fields skipped: {', '.join(sorted(stale))}")
    if drift:
        reasons.append(f"drift in: {', '.join(sorted(drift))}")
    if event.needs_refresh and not applied:
        reasons.append("marked needs_refresh")
    return Outcome(
        status=OutcomeStatus.PROCESSED,
        reason="; ".join(reasons),
        changed=tuple(sorted(applied)),
        drift=tuple(sorted(drift)),
    )


def _event_for_erased_contact(contact: Contact, event: ContactEvent) -> Outcome:
    if event.deletion_is_final:
        return Outcome(status=OutcomeStatus.IGNORED, reason="contact was erased", subject_erased=True)
    deleted = contact.field_versions.get(DELETION_VERSION_KEY)
    if deleted is not None and version_stamp(event.changed_at, event.tiebreak) <= deleted:
        return Outcome(status=OutcomeStatus.IGNORED, reason="older than the contact's deletion")
    # A soft delete upstream was undone: look the contact up again, restore nothing we erased.
    if not contact.needs_refresh:
        contact.needs_refresh = True
        contact.save(update_fields=["needs_refresh", "updated_at"])
    return Outcome(status=OutcomeStatus.PROCESSED, reason="reactivated upstream: marked needs_refresh")


def _apply_deletion(event: ContactEvent) -> Outcome:
    key = {"provider": event.provider, "account_id": event.account_id, "external_id": event.external_id}
    contact = Contact.objects.select_for_update().filter(**key).first()
    if contact is None:
        # Unknown contact: a tombstone still stops late events from resurrecting it.
        try:
            with transaction.atomic():
                contact = Contact.objects.create(**key)
        except IntegrityError:
            contact = Contact.objects.select_for_update().get(**key)
    stamp = version_stamp(event.changed_at, event.tiebreak)
    if contact.is_erased and not has_personal_data(contact):
        previous = contact.field_versions.get(DELETION_VERSION_KEY)
        if previous is None or stamp > previous:
            contact.field_versions = {DELETION_VERSION_KEY: stamp}
            contact.save(update_fields=["field_versions", "updated_at"])
        # Still redact whatever arrived about the contact since it was erased.
        return Outcome(status=OutcomeStatus.IGNORED, reason="contact already erased", subject_erased=True)
    erase_contact(
        contact=contact,
        requested_by=event.actor_id,
        requested_by_type=event.actor_type or event.provider,
        reason=f"{event.provider}: contact deleted at the source",
        deleted_at=event.deleted_at,
        event_id=event.event_ref or event.tiebreak,
        deletion_stamp=stamp,
    )
    return Outcome(status=OutcomeStatus.PROCESSED, reason="contact erased", changed=("erased_at",), subject_erased=True)


def has_personal_data(contact: Contact) -> bool:
    return bool(erasable_fields(contact))


def erasable_fields(contact: Contact) -> list[str]:
    empty = {field.name: field.get_default() for field in Contact._meta.concrete_fields}
    return [name for name in PERSONAL_FIELDS if getattr(contact, name) not in (None, "", [], {}, empty[name])]


def fingerprint(kind: str, value: str) -> str:
    """Keyed HMAC-SHA256 of a normalized email or phone, or '' when no key is configured.

    Never a plain hash: without the key (kept outside the database) a fingerprint cannot be tested
    against guesses.
    """
    key = settings.ERASURE_FINGERPRINT_KEY
    if not key or not value:
        return ""
    normalized = normalize_email(value).lower() if kind == "email" else normalize_phone(value)
    if not normalized:
        return ""
    return hmac.new(key.encode(), f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


def erase_contact(
    *,
    contact: Contact,
    requested_by: str,
    requested_by_type: str,
    reason: str,
    deleted_at: datetime | None = None,
    event_id: str = "",
    deletion_stamp: list[str] | None = None,
) -> ErasureRecord:
    """Erase one person's data everywhere we hold it and append the record to the erasure log.

    The contact row stays as a tombstone (provider, account, external id, erased_at, needs_refresh).
    """
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        erased_fields = erasable_fields(contact)
        email_fingerprint = fingerprint("email", contact.email)
        phone_fingerprint = fingerprint("phone", contact.phone)
        now = timezone.now()

        for field in Contact._meta.concrete_fields:
            if field.name in PERSONAL_FIELDS:
                setattr(contact, field.name, field.get_default())
        previous_deletion = contact.field_versions.get(DELETION_VERSION_KEY)
        stamps = [s for s in (previous_deletion, deletion_stamp) if s is not None]
        contact.field_versions = {DELETION_VERSION_KEY: max(stamps)} if stamps else {}
        contact.erased_at = now
        contact.save()

        redacted_events = sum(
            response
            for _receiver, response in subject_erased.send(
                sender=Contact,
                provider=contact.provider,
                account_id=contact.account_id,
                external_id=contact.external_id,
            )
            if isinstance(response, int)
        )
        _scrub_admin_log(contact)
        record = _append_erasure_record(
            provider=contact.provider,
            account_id=contact.account_id,
            external_id=contact.external_id,
            contact=contact,
            event_id=event_id,
            requested_by=requested_by,
            requested_by_type=requested_by_type,
            deleted_at=deleted_at,
            erased_at=now,
            reason=reason,
            erased_fields=erased_fields,
            redacted_events=redacted_events,
            email_fingerprint=email_fingerprint,
            phone_fingerprint=phone_fingerprint,
        )
    logger.info(
        "erased contact %s (%s fields, %s payloads redacted), erasure record %s",
        contact.pk,
        len(erased_fields),
        redacted_events,
        record.sequence,
    )
    return record


def _scrub_admin_log(contact: Contact) -> None:
    """Admin history rows name the object by its str() at the time: rewrite them to the tombstone's."""
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk)).update(
        object_repr=str(contact)[:200]
    )


def _append_erasure_record(**values) -> ErasureRecord:
    """Append to the hash chain. Writers are serialized so that the chain never forks."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ERASURE_CHAIN_LOCK_ID])
    last = ErasureRecord.objects.order_by("-sequence").only("sequence", "hash").first()
    record = ErasureRecord(
        sequence=(last.sequence + 1) if last else 1,
        prev_hash=last.hash if last else ErasureRecord.GENESIS_HASH,
        **values,
    )
    record.hash = record.compute_hash()
    record.save(force_insert=True)
    return record

"""``rebuild_erased_copies``: every stored copy of every erased contact rebuilt by today's rule (docs/
erasure-rules.md › What survives an erasure), for copies made before it. Idempotent: a second run changes
nothing. Run by a migration, by ``reapply_erasures`` after a restore, and by hand; it reports how many
values it changed, per table and column, for an incident assessment.

``contacts`` rebuilds its own rows (tombstones: ids, the deletion's dedupe key); ``webhooks`` its stored
events and erased-contact list, through the bridge. Erasure records are append-only: one holding an id not
in plain form is counted, not rewritten.
"""

from collections import Counter

from django.db import transaction

from config.erased_ids import DIGEST_PREFIX, is_plain_id, stored_id
from config.locks import lock_subjects
from contacts.models import Contact, ErasureRecord


def rebuild_erased_copies() -> Counter:
    counts = Counter()
    subjects = []
    tombstones = Contact.objects.filter(erased_at__isnull=False).order_by("pk")
    for pk, provider, account_id, external_id in tombstones.values_list("pk", "provider", "account_id", "external_id"):
        counts["contacts_contact.tombstones"] += 1
        subjects.append((provider, account_id, external_id))
        with transaction.atomic():
            lock_subjects([(provider, account_id, external_id)])
            counts.update(_rebuild_tombstone(Contact.objects.select_for_update().get(pk=pk)))
    counts.update(rebuild_stored_events(subjects))
    counts.update(_records_left_as_recorded())
    return counts


def _records_left_as_recorded() -> Counter:
    """Erasure records made before ids were stored as digests that hold an id not in plain form, per field:
    left as recorded (docs/erasure-rules.md › Erasure records made before the rule). Only records
    that cannot be plain are read: an id of ``:``-free ASCII letters and digits never needs a digest."""
    left = Counter()
    for field in ("account_id", "external_id", "event_id"):
        values = ErasureRecord.objects.exclude(**{field: ""}).exclude(**{f"{field}__startswith": DIGEST_PREFIX})
        for value in values.values_list(field, flat=True).iterator(chunk_size=2000):
            if not is_plain_id(value):
                left[f"contacts_erasurerecord.{field} (append-only, left as recorded)"] += 1
    return left


def _rebuild_tombstone(contact: Contact) -> Counter:
    changed = Counter()
    ids = {"account_id": stored_id(contact.account_id), "external_id": stored_id(contact.external_id)}
    if any(getattr(contact, name) != value for name, value in ids.items()):
        taken = Contact.objects.filter(provider=contact.provider, **ids).exclude(pk=contact.pk).exists()
        if taken:  # the digest already names another row: left for an operator (never merged blindly)
            changed["contacts_contact.ids (taken, left)"] += 1
        else:
            changed.update(f"contacts_contact.{name}" for name, value in ids.items() if getattr(contact, name) != value)
            for name, value in ids.items():
                setattr(contact, name, value)
    versions = {
        key: [version[0], stored_id(version[1])] if isinstance(version, list) and len(version) == 2 else version
        for key, version in contact.field_versions.items()
    }
    if versions != contact.field_versions:
        changed["contacts_contact.field_versions"] += 1
        contact.field_versions = versions
    if changed:
        contact.save(update_fields=["account_id", "external_id", "field_versions", "updated_at"])
    return changed


def rebuild_stored_events(subjects: list[tuple[str, str, str]]) -> Counter:
    """``webhooks``' share: these contacts' stored events, and those of every contact it lists as erased.
    The one crossing into ``webhooks`` (its bridge)."""
    from webhooks.bridge import stored_events

    return Counter(stored_events().rebuild_erased_copies(subjects=subjects))

"""Applying a batch of normalized events to their contacts (sync rules 2–6), deletions included.

``contacts.receivers`` calls ``apply_contact_events`` for every ``contact_events`` signal: the batch's
contacts are read once, each event is applied to them in memory by per-field last-write-wins
(``last_write_wins``), a deletion erases its contact (``erasure``), and the changes are written back once.
"""

from functools import partial

from django.utils import timezone

from config.db.bulk import bulk_update_by_pk
from config.db.compiled import rows_by_fields
from config.db.insert import insert_new_instance
from config.db.locks import subjects_filter
from contacts.erasure_reasons import ErasureReason
from contacts.models import Contact
from contacts.services.erasure import ErasureOrigin, erase_locked_contact, erased_on_request
from contacts.services.erasure_log import erasure_records_appended_at_the_end
from contacts.services.last_write_wins import (
    DELETION_VERSION_KEY,
    REFRESH_VERSION_KEY,
    FieldVersion,
    apply_fields,
    newest_refresh_request,
    stored_version,
    tombstone_versions,
)
from contacts.services.refresh import schedule_look_up
from webhooks.events import ContactEvent, ContactEventKind, EventFailed, Outcome, OutcomeStatus

SUBJECT_FIELDS = ("provider", "account_id", "external_id")  # a contact's key, in its subject's order


def apply_contact_events(*, events: list[ContactEvent]) -> list[Outcome]:
    """Apply a batch of events in the order given; one outcome per event.

    Call inside a transaction that holds the contacts' locks (``config.db.locks``). The batch's contacts are
    read in one query (locked), every event is applied to them in memory, then one INSERT writes the new
    contacts and one UPDATE the changed ones; a deletion erases at once (its chain record is appended at
    the end of the batch). Raises ``EventFailed`` naming the first event that could not be applied, so
    that the caller can re-run the batch without it."""
    batch = ContactBatch(event_subject(event) for event in events)
    outcomes = []
    with erasure_records_appended_at_the_end():
        for index, event in enumerate(events):
            try:
                outcomes.append(batch.apply(event))
            except Exception as exc:
                # `from None`: the original stays on the failure (its class and location are recorded).
                raise EventFailed(index, exc) from None
        batch.write()
    return outcomes


def event_subject(event: ContactEvent) -> tuple[str, str, str]:
    return event.provider, event.account_id, event.external_id


# What a batch writes back for a changed contact: every column but the key and the creation time.
WRITTEN_FIELDS = tuple(
    field.name for field in Contact._meta.concrete_fields if not field.primary_key and field.name != "created_at"
)


class ContactBatch:
    """The contacts of one batch of events, read once (locked) and written back once."""

    def __init__(self, subjects):
        subjects = set(subjects)
        if len(subjects) == 1:
            # An inline delivery's one contact: the read compiled once per process (config.db.compiled).
            locked = rows_by_fields(Contact, SUBJECT_FIELDS, tuple(next(iter(subjects))), for_update=True)
        else:
            locked = Contact.objects.select_for_update().filter(subjects_filter(subjects)).order_by("pk")
        self.contacts = {(c.provider, c.account_id, c.external_id): c for c in locked}
        self.new: dict[tuple, Contact] = {}  # not in the database yet, in the order first seen
        self.changed: set[tuple] = set()
        self.look_up: set[tuple] = set()

    def apply(self, event: ContactEvent) -> Outcome:
        subject = event_subject(event)
        if event.kind == ContactEventKind.DELETED:
            outcome = self._apply_deletion(event, subject)
        else:
            contact = self.contacts.get(subject)
            if contact is None:
                contact = Contact(
                    provider=event.provider,
                    account_id=event.account_id,
                    external_id=event.external_id,
                    needs_refresh=not event.complete,
                )
                self.contacts[subject] = self.new[subject] = contact
            apply = _event_for_erased_contact if contact.is_erased else apply_fields
            outcome = apply(contact, event)
            if event.needs_refresh:
                self.look_up.add(subject)
        self.changed.add(subject)
        return outcome

    def _apply_deletion(self, event: ContactEvent, subject: tuple) -> Outcome:
        contact = self.contacts.get(subject)
        if contact is None:
            # Unknown contact: a tombstone still stops late events from resurrecting it.
            contact = self.contacts[subject] = Contact(
                provider=event.provider, account_id=event.account_id, external_id=event.external_id
            )
            contact.save(force_insert=True)
        elif subject in self.new:
            # Created earlier in this batch: erasing needs its row (the record and the admin log name it).
            contact.save(force_insert=True)
            del self.new[subject]
        outcome = _apply_deletion(contact, event)
        self.look_up.add(subject)
        return outcome

    def write(self) -> None:
        now = timezone.now()
        if len(self.new) == 1:
            # An inline delivery's new contact: the INSERT built once per process (config.db.insert).
            insert_new_instance(next(iter(self.new.values())))
        elif self.new:
            Contact.objects.bulk_create(list(self.new.values()))
        changed = [self.contacts[subject] for subject in self.changed if subject not in self.new]
        for contact in changed:
            contact.updated_at = now
        bulk_update_by_pk(changed, WRITTEN_FIELDS)
        for subject in self.look_up:
            schedule_look_up(self.contacts[subject])


def _event_for_erased_contact(contact: Contact, event: ContactEvent) -> Outcome:
    """Nothing an event carries reaches a tombstone. At providers whose deletions are soft, a newer
    "look it up" signal means the contact was reactivated: the tombstone is marked needs_refresh, and
    only a lookup of its current state (``refresh_contact``) may fill it again."""
    ignored = partial(Outcome, status=OutcomeStatus.IGNORED, subject_erased=True)
    if event.deletion_is_final:
        return ignored(reason="contact was erased")
    version = FieldVersion.of_event(event)
    deleted = stored_version(contact, DELETION_VERSION_KEY)
    if deleted is not None and version <= deleted:
        return ignored(reason="older than the contact's deletion")
    if not event.needs_refresh:
        return ignored(reason="contact was erased; only a reactivation (look-up signal) is applied")
    if erased_on_request(contact):
        return ignored(reason="contact was erased on a data-subject request")
    versions = dict(contact.field_versions)
    versions[REFRESH_VERSION_KEY] = newest_refresh_request(versions, version)
    contact.needs_refresh = True
    contact.field_versions = versions
    return Outcome(
        status=OutcomeStatus.PROCESSED, reason="reactivated upstream: marked needs_refresh", subject_erased=True
    )


def _apply_deletion(contact: Contact, event: ContactEvent) -> Outcome:
    """Erase the contact (its row exists and is locked), unless it already is or a newer reactivation
    undid this deletion."""
    version = FieldVersion.of_event(event)
    previous = stored_version(contact, DELETION_VERSION_KEY)
    # Erased means empty: the database refuses a tombstone holding a personal value.
    if contact.is_erased:
        if previous is None or version > previous:
            contact.field_versions, contact.needs_refresh = tombstone_versions(contact.field_versions, version)
        # Still redact whatever arrived about the contact since it was erased.
        return Outcome(status=OutcomeStatus.IGNORED, reason="contact already erased", subject_erased=True)
    if previous is not None and version <= previous:
        # Reactivated since a newer deletion (soft deletes): this older one was already undone.
        return Outcome(status=OutcomeStatus.IGNORED, reason="older than the contact's last deletion")
    erase_locked_contact(
        contact=contact,
        origin=ErasureOrigin.PROVIDER_DELETION,
        requested_by=event.actor_id,
        requested_by_type=event.actor_type or event.provider,
        reason=ErasureReason.PROVIDER_DELETION,
        # A delivery without an event id (Timely may send none) is known by its dedupe key (its body's hash).
        event_id=event.event_id or event.dedupe_key,
        deleted_at=event.deleted_at,
        deletion=version,
    )
    # A reactivation newer than this deletion arrived first: the batch looks the contact up again.
    return Outcome(status=OutcomeStatus.PROCESSED, reason="contact erased", changed=("erased_at",), subject_erased=True)
